"""Huawei Cloud WAF (v1 API) as a push target.

Idempotence: the certificate is named ``PushRequest.deterministic_name`` (certificate id + version).
A push looks the name up first and reuses what an earlier attempt made; a create that loses a race
(WAF answers "duplicate name") looks it up again. A second certificate is never created. A new version
of a certificate already in the region renews it in place (same id, so every domain keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from certpush.errors import PermanentPushError, TransientPushError
from certpush.models.domain import AttachResult, PushRequest, UploadAction, UploadResult
from certpush.providers.huaweicloud.client import WAF_DUPLICATE_NAME_CODES
from certpush.providers.huaweicloud.console import (
    DEFAULT_WAF_CONSOLE_TEMPLATE,
    ConsoleLinkedTarget,
)
from certpush.providers.huaweicloud.references import references_in_region
from certpush.providers.huaweicloud.regions import WAF

CERTIFICATES_PATH = "/v1/{project_id}/waf/certificate"
PAGE_SIZE = 100
MAX_PAGES = 50
PREMIUM_PREFIX = "premium/"
# WAF.00014002: the resource does not exist (WAF error codes, https://support.huaweicloud.com/api-waf/ErrorCode.html)
WAF_NOT_FOUND_CODES = frozenset({"WAF.00014002", "HTTP_404"})


class HuaweiWafTarget(ConsoleLinkedTarget):
    """Pushes a certificate into WAF's certificate store of a region, then applies it to the protected
    domains named in ``request.options.attach`` (``region/host_id`` or ``region/premium/host_id``)."""

    provider = "huaweicloud"
    service = WAF

    default_console_template = DEFAULT_WAF_CONSOLE_TEMPLATE

    def upload(self, request: PushRequest) -> UploadResult:
        region = request.region
        name = request.deterministic_name
        certificate = self.find_by_name(region, name)
        action = UploadAction.REUSED
        if certificate is None and request.previous_target_id:
            certificate = self._update_in_place(request, name, request.previous_target_id)
            action = UploadAction.RENEWED_IN_PLACE
        if certificate is None:
            certificate, action = self._create(request, name)
        words = {UploadAction.REUSED: "reused", UploadAction.RENEWED_IN_PLACE: "renewed in place"}
        return UploadResult(
            target_id=str(certificate["id"]),
            action=action,
            detail=f"{words.get(action, 'created')} WAF certificate {name}",
        )

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        """Applies the certificate to the protected domains of ``options.attach`` in the region
        (ApplyCertificateToHost); those it is applied to already (ShowCertificate ``bind_host``) are left."""
        wanted = references_in_region(request.options.attach, request.region)
        if not wanted:
            return AttachResult()
        certificate = self.get(request.region, target_id)
        if certificate is None:
            raise TransientPushError("HTTP_404", f"WAF certificate {target_id} is not listed yet")
        bound = self._apply_to_hosts(request, target_id, certificate, wanted)
        return AttachResult(attached=bound, detail=f"applied to {len(bound)} protected domain(s)")

    # -- lookups ---------------------------------------------------------------------------------
    def find_by_name(self, region: str, name: str) -> dict[str, Any] | None:
        """The certificate with exactly this name (WAF's name filter is a fuzzy match)."""
        matches: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = self._client.call(
                WAF, region, "GET", CERTIFICATES_PATH, params=self._query(page=page, pagesize=PAGE_SIZE, name=name)
            )
            items = [item for item in body.get("items") or [] if isinstance(item, Mapping)]
            matches.extend(dict(item) for item in items if item.get("name") == name and item.get("id"))
            total = body.get("total")
            if not items or not isinstance(total, int) or page * PAGE_SIZE >= total:
                break
        if not matches:
            return None
        return min(matches, key=lambda item: (item.get("timestamp") or 0, str(item["id"])))

    def get(self, region: str, certificate_id: str) -> dict[str, Any] | None:
        """The certificate with this id (with ``bind_host``), or None when WAF has none."""
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}"
        try:
            return self._client.call(WAF, region, "GET", path, params=self._query())
        except PermanentPushError as exc:
            if exc.code in WAF_NOT_FOUND_CODES:
                return None
            raise

    # -- changes ---------------------------------------------------------------------------------
    def _update_in_place(self, request: PushRequest, name: str, certificate_id: str) -> dict[str, Any] | None:
        """UpdateCertificate (``PUT .../waf/certificate/{id}``, body name, content, key): the domains the
        certificate is applied to serve the new version at once. None when it is gone."""
        if self.get(request.region, certificate_id) is None:
            return None
        body = {
            "name": name,
            "content": request.material.full_chain_pem,
            "key": request.material.private_key_pem.get_secret_value(),
        }
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}"
        self._client.call(WAF, request.region, "PUT", path, params=self._query(), json_body=body)
        return self.get(request.region, certificate_id)

    def _create(self, request: PushRequest, name: str) -> tuple[dict[str, Any], UploadAction]:
        body = {
            "name": name,
            "content": request.material.full_chain_pem,
            "key": request.material.private_key_pem.get_secret_value(),
        }
        try:
            created = self._client.call(
                WAF, request.region, "POST", CERTIFICATES_PATH, params=self._query(), json_body=body
            )
        except PermanentPushError as exc:
            if exc.code not in WAF_DUPLICATE_NAME_CODES:
                raise
            existing = self.find_by_name(request.region, name)
            if existing is None:  # the name is taken but not listed yet: ask again later
                raise TransientPushError(exc.code, f"name {name} is taken but not listed yet") from exc
            return existing, UploadAction.REUSED
        if not created.get("id"):
            raise TransientPushError("INVALID_RESPONSE", "WAF answered a create without a certificate id")
        return created, UploadAction.CREATED

    def _apply_to_hosts(
        self, request: PushRequest, certificate_id: str, certificate: Mapping[str, Any], wanted: list[str]
    ) -> list[str]:
        bound = {str(host.get("id")) for host in certificate.get("bind_host") or [] if isinstance(host, Mapping)}
        cloud = [ref for ref in wanted if not ref.startswith(PREMIUM_PREFIX)]
        premium = [ref[len(PREMIUM_PREFIX) :] for ref in wanted if ref.startswith(PREMIUM_PREFIX)]
        missing_cloud = [host for host in cloud if host not in bound]
        missing_premium = [host for host in premium if host not in bound]
        if missing_cloud or missing_premium:
            payload: dict[str, list[str]] = {}
            if missing_cloud:
                payload["cloud_host_ids"] = missing_cloud
            if missing_premium:
                payload["premium_host_ids"] = missing_premium
            path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}/apply-to-hosts"
            self._client.call(WAF, request.region, "POST", path, params=self._query(), json_body=payload)
        return cloud + premium

    def _query(self, **params: Any) -> dict[str, Any]:
        if self._enterprise_project_id is not None:
            params["enterprise_project_id"] = self._enterprise_project_id
        return params

    # -- retraction ------------------------------------------------------------------------------
    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """The protected domains the certificate is applied to (ShowCertificate ``bind_host``)."""
        certificate = self.get(region, target_id)
        hosts = certificate.get("bind_host") if certificate else None
        return [
            f"{host.get('waf_type') or 'cloud'} protected domain {host.get('hostname')} ({host.get('id')})"
            for host in hosts or []
            if isinstance(host, Mapping)
        ]

    def retract(self, region: str, target_id: str) -> None:
        path = f"{CERTIFICATES_PATH}/{quote(target_id, safe='')}"
        try:
            self._client.call(WAF, region, "DELETE", path, params=self._query())
        except PermanentPushError as exc:
            if exc.code not in WAF_NOT_FOUND_CODES:
                raise
