"""Huawei Cloud CDN (global) as a push target: the certificate is configured on accelerated domains.

CDN keeps no certificate store of its own: the certificate is part of a domain's HTTPS configuration,
set with UpdateDomainFullConfig (``PUT /v1.1/cdn/configuration/domains/{domain_name}/configs``, body
``{"configs": {"https": {https_status, certificate_type, certificate_source, certificate_name,
certificate_value, private_key, http2_status, tls_version, ocsp_stapling_status}}}``) and read with
ShowDomainFullConfig (``GET`` on the same path), https://support.huaweicloud.com/api-cdn/UpdateDomainFullConfig.html.
The ``https`` object replaces the domain's HTTPS configuration as a whole: what it leaves out takes its
default (HTTP/2 off, TLS 1.1-1.3, OCSP stapling off). So a push reads the configuration and writes it
back with only the certificate changed; other configurations (force redirect...) are not sent, so they
stay as they are.

CDN is global: with AK/SK every call names the account (``X-Domain-Id``, from the settings or IAM), and
the endpoint is the account's site's (``cdn.myhuaweicloud.com``, ``cdn.myhuaweicloud.eu``). With an
enterprise project (a setting; mandatory when the keys are an IAM user's) every call names it.

The domains are the ``--attach`` references (accelerated domain names); without any, every
accelerated domain the certificate covers (ListDomains, ``GET /v1.0/cdn/domains``).

Upload and attach: CDN has nothing to upload to, so ``upload`` stores nothing. It decides the domains
(the target id is their comma-joined list) and reads what each serves (ShowDomainFullConfig) to say
what the push will be: REUSED when every domain serves this version already, RENEWED_IN_PLACE when
one serves another certpush version, else CREATED. ``attach`` configures the domains that do not
serve this version yet, one by one; a domain that is gone fails the attach (ATTACH_FAILED), not the
upload. A push is idempotent: a domain that already serves the certificate under this version's name
is left alone. A renewal is in place by nature: the new version replaces the old one on the same domains.

Retract: a certificate leaves a domain only by another one taking its place or HTTPS being turned off
(``https_status`` off, which also turns HTTP/2 and OCSP stapling off); the private key of the domain's
previous certificate is never readable back (ShowDomainFullConfig answers no key), so nothing can be put
back. Turning HTTPS off on a domain that serves visitors is no retraction but an outage: a domain that
serves certpush's certificate refuses the retract (``in_use``) and says what to do; one that no longer
does holds nothing of certpush's, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from certpush.errors import PermanentPushError
from certpush.models.domain import TARGET_NAME_PREFIX, AttachResult, PushRequest, UploadAction, UploadResult
from certpush.providers.huaweicloud.console import (
    DEFAULT_CDN_CONSOLE_TEMPLATE,
    ConsoleLinkedTarget,
)
from certpush.providers.huaweicloud.keys import traditional_pem
from certpush.providers.huaweicloud.regions import CDN

DOMAINS_PATH = "/v1.0/cdn/domains"
CONFIGS_PATH = "/v1.1/cdn/configuration/domains/{domain_name}/configs"
PAGE_SIZE = 1000
MAX_PAGES = 20
OWN_CERTIFICATE = 0  # certificate_source 0: the tenant's own certificate (2: a CCM certificate)
# what a domain's HTTPS configuration holds besides its certificate: written back as read
KEPT_HTTPS_SETTINGS = ("http2_status", "tls_version", "ocsp_stapling_status")


def covers(names: Iterable[str], domain: str) -> bool:
    """Whether a certificate with these DNS names is valid for ``domain`` (one wildcard label)."""
    domain = domain.lower()
    for name in (n.lower() for n in names):
        if name == domain:
            return True
        if name.startswith("*.") and domain.count(".") == name.count(".") and domain.endswith(name[1:]):
            return True
    return False


class HuaweiCdnTarget(ConsoleLinkedTarget):
    provider = "huaweicloud"
    service = CDN

    default_console_template = DEFAULT_CDN_CONSOLE_TEMPLATE

    def upload(self, request: PushRequest) -> UploadResult:
        domains = self._domains(request)
        name = request.deterministic_name
        serving = [self._serving(domain) for domain in domains]
        if all(current == name for current in serving):
            action = UploadAction.REUSED
        elif any(current.startswith(TARGET_NAME_PREFIX) for current in serving):
            action = UploadAction.RENEWED_IN_PLACE
        else:
            action = UploadAction.CREATED
        done = sum(1 for current in serving if current == name)
        return UploadResult(
            target_id=",".join(sorted(domains)),
            action=action,
            detail=f"{name} for {len(domains)} accelerated domain(s), {done} serving it already",
        )

    def find(self, request: PushRequest) -> UploadResult:
        """CDN holds no certificate store: ``upload`` only reads what the domains serve, so it is its own look."""
        return self.upload(request)

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        name = request.deterministic_name
        domains = [domain for domain in target_id.split(",") if domain]
        current = {domain: self._https(domain) for domain in domains}
        changed = [domain for domain in domains if current[domain].get("certificate_name") != name]
        key = traditional_pem(request.material.private_key_pem.get_secret_value()) if changed else ""
        for domain in changed:
            kept = {k: current[domain][k] for k in KEPT_HTTPS_SETTINGS if current[domain].get(k) is not None}
            https = {
                **kept,
                "https_status": "on",
                "certificate_type": "server",
                "certificate_source": OWN_CERTIFICATE,
                "certificate_name": name,
                "certificate_value": request.material.full_chain_pem,
                "private_key": key,
            }
            self._call("PUT", self._configs_path(domain), params=self._query(), json_body={"configs": {"https": https}})
        return AttachResult(
            attached=domains, detail=f"configured {name} on {len(changed)} of {len(domains)} accelerated domain(s)"
        )

    def _serving(self, domain: str) -> str:
        """The certificate name a domain serves ("" for none, or for a domain that is gone: attaching
        to it then fails, and says so)."""
        try:
            return str(self._https(domain).get("certificate_name") or "")
        except PermanentPushError as exc:
            if exc.code in DOMAIN_GONE_CODES:
                return ""
            raise

    def _domains(self, request: PushRequest) -> list[str]:
        names = [*request.certificate.sans, request.certificate.common_name]
        domains = list(dict.fromkeys(request.options.attach)) or self._covered_domains(names)
        if not domains:
            raise PermanentPushError(
                "NO_ACCELERATED_DOMAIN", "no accelerated domain is named in --attach or covered by the certificate"
            )
        return domains

    # -- lookups ---------------------------------------------------------------------------------
    def _configs_path(self, domain: str) -> str:
        return CONFIGS_PATH.replace("{domain_name}", quote(domain, safe=""))

    def _call(
        self, method: str, path: str, *, params: dict[str, Any], json_body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._client.call(CDN, "global", method, path, params=params, json_body=json_body, global_service=True)

    def _https(self, domain: str) -> Mapping[str, Any]:
        """The domain's HTTPS configuration (ShowDomainFullConfig ``configs.https``: no private key)."""
        body = self._call("GET", self._configs_path(domain), params=self._query())
        configs = body.get("configs") if isinstance(body.get("configs"), Mapping) else {}
        https = configs.get("https") if configs else None
        return https if isinstance(https, Mapping) else {}

    def _covered_domains(self, names: list[str]) -> list[str]:
        found: list[str] = []
        for page in range(1, MAX_PAGES + 1):
            params = self._query(page_size=PAGE_SIZE, page_number=page)
            body = self._call("GET", DOMAINS_PATH, params=params)
            domains = [d for d in body.get("domains") or [] if isinstance(d, Mapping)]
            found.extend(str(d["domain_name"]) for d in domains if d.get("domain_name"))
            total = body.get("total")
            if not domains or not isinstance(total, int) or page * PAGE_SIZE >= total:
                break
        return [domain for domain in found if covers(names, domain)]

    def _query(self, **params: Any) -> dict[str, Any]:
        if self._enterprise_project_id is not None:
            params["enterprise_project_id"] = self._enterprise_project_id
        return params

    # -- retraction ------------------------------------------------------------------------------
    def _serving_certpush(self, target_id: str) -> list[tuple[str, str]]:
        """(domain, certificate name) of the domains that serve HTTPS with a certificate certpush configured."""
        serving: list[tuple[str, str]] = []
        for domain in (d for d in target_id.split(",") if d):
            try:
                https = self._https(domain)
            except PermanentPushError as exc:
                if exc.code in DOMAIN_GONE_CODES:
                    continue
                raise
            name = str(https.get("certificate_name") or "")
            if https.get("https_status") == "on" and name.startswith(TARGET_NAME_PREFIX):
                serving.append((domain, name))
        return serving

    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """The accelerated domains that serve HTTPS with a certificate certpush configured: CDN holds a
        certificate only there, so retracting it would mean turning HTTPS off for their visitors."""
        return [f"accelerated domain {domain} ({name})" for domain, name in self._serving_certpush(target_id)]

    def retract(self, region: str, target_id: str) -> str:
        """Removes nothing: refuses while a domain serves certpush's certificate (turning HTTPS off is an
        outage, and the certificate before certpush's cannot be put back: CDN never answers its key);
        once none does, there is nothing of certpush's left, which it says."""
        serving = self._serving_certpush(target_id)
        if serving:
            names = ", ".join(domain for domain, _ in serving)
            raise PermanentPushError(
                "CDN_SERVES_IT",
                f"accelerated domain(s) {names} serve it over HTTPS; CDN removes a certificate only by turning "
                "HTTPS off: configure another certificate there (or turn HTTPS off in the console), then retract",
            )
        return f"no accelerated domain of {target_id} serves it any more: nothing to remove"


# CDN.0105: the accelerated domain does not exist; CDN.0108: it is not the tenant's
# (https://support.huaweicloud.com/api-cdn/ErrorCode.html).
DOMAIN_GONE_CODES = frozenset({"CDN.0105", "CDN.0108"})
