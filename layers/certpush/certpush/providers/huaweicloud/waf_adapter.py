"""Huawei Cloud WAF (v1 API) as a push target.

Idempotence without relying on unique names (WAF documents no refusal of a taken certificate name): the
certificate is named ``PushRequest.deterministic_name`` (certificate id + version). A push looks the name
up first, among certificates applied to a domain and those that are not (ListCertificates' ``host``
"default false" lists only the latter), and reuses what an earlier attempt made. After a create it looks
again: two certificates with its name (a concurrent or late create) are one too many; every pusher keeps
the same one (the one the binding names, else one applied to a domain, else the oldest) and deletes the
others that no domain uses, and says so in the record's message.

Renewal. A certificate applied to a protected domain can be neither changed nor deleted (WAF.00022003
"Resource is in use"), and some regions' UpdateCertificate takes a name only (``regions.WAF_UPDATE_NAME_ONLY``).
So a new version renews the certificate of the previous one in place (same id) only when no domain uses it
and the region's API allows it; otherwise it is created anew, and ``attach`` moves the protected domains
of the certificate's other versions to it, as a renewal in place would have.
"""

from __future__ import annotations

import re
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
from certpush.providers.huaweicloud.keys import traditional_pem
from certpush.providers.huaweicloud.references import references_in_region
from certpush.providers.huaweicloud.regions import WAF, waf_updates_content

CERTIFICATES_PATH = "/v1/{project_id}/waf/certificate"
PAGE_SIZE = 100
MAX_PAGES = 50
PREMIUM_PREFIX = "premium/"
# WAF.00014002: the resource does not exist (WAF error codes, https://support.huaweicloud.com/api-waf/ErrorCode.html)
WAF_NOT_FOUND_CODES = frozenset({"WAF.00014002", "HTTP_404"})
# WAF.00022003 "Resource is in use": a certificate applied to a domain is neither updated nor deleted
WAF_IN_USE = "WAF.00022003"
_VERSION_SUFFIX = re.compile(r"v(?P<version>\d+)$")
KEEP_ONE_ROUNDS = 4


def _oldest(items: list[dict[str, Any]]) -> dict[str, Any]:
    return min(items, key=lambda item: (item.get("timestamp") or 0, str(item["id"])))


def _duplicates_note(removed: list[str], left: set[str], used_by: str) -> str:
    note = ""
    if removed:
        note += f"; removed duplicate(s) {', '.join(removed)} (a concurrent or late create)"
    if left:
        note += f"; duplicate(s) {', '.join(sorted(left))} left: {used_by}"
    return note


def _hosts(certificate: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [host for host in certificate.get("bind_host") or [] if isinstance(host, Mapping) and host.get("id")]


class HuaweiWafTarget(ConsoleLinkedTarget):
    """Pushes a certificate into WAF's certificate store of a region, then applies it to the protected
    domains named in ``request.options.attach`` (``region/host_id`` or ``region/premium/host_id``)."""

    provider = "huaweicloud"
    service = WAF

    default_console_template = DEFAULT_WAF_CONSOLE_TEMPLATE

    def upload(self, request: PushRequest) -> UploadResult:
        region = request.region
        name = request.deterministic_name
        reused = self.find(request)
        if reused is not None:
            return reused
        if request.previous_target_id:
            renewed = self._update_in_place(request, name, request.previous_target_id)
            if renewed is not None:
                return UploadResult(
                    target_id=str(renewed["id"]),
                    action=UploadAction.RENEWED_IN_PLACE,
                    detail=f"renewed in place WAF certificate {name}",
                )
        created = self._create(request, name)
        # a concurrent push, or a create that landed late, may have made another one (applied to no
        # domain yet, like ours): keep one
        found = self.list_named(region, name, hosts=(False,)) or [created]
        kept, note = self._keep_one(region, name, found, request.previous_target_id)
        if str(kept["id"]) != str(created["id"]):
            return UploadResult(
                target_id=str(kept["id"]), action=UploadAction.REUSED, detail=f"reused WAF certificate {name}{note}"
            )
        return UploadResult(
            target_id=str(kept["id"]), action=UploadAction.CREATED, detail=f"created WAF certificate {name}{note}"
        )

    def find(self, request: PushRequest) -> UploadResult | None:
        """The certificate named for the version (one renewed in place takes that name too); duplicates
        removed as ``upload`` removes them."""
        name = request.deterministic_name
        found = self.list_named(request.region, name)
        if not found:
            return None
        kept, note = self._keep_one(request.region, name, found, request.previous_target_id)
        return UploadResult(
            target_id=str(kept["id"]), action=UploadAction.REUSED, detail=f"reused WAF certificate {name}{note}"
        )

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        """Applies the certificate to the protected domains of ``options.attach`` in the region, and to
        those the certificate's other versions hold (ApplyCertificateToHost: a domain takes one
        certificate, so this moves them); those it is applied to already are left."""
        wanted = references_in_region(request.options.attach, request.region)
        # without a binding no other version was ever recorded here: there is nothing to move
        moving = self._hosts_of_other_versions(request) if request.previous_target_id else []
        if not wanted and not moving:
            return AttachResult()
        certificate = self.get(request.region, target_id)
        if certificate is None:
            raise TransientPushError("HTTP_404", f"WAF certificate {target_id} is not listed yet")
        bound = {str(host["id"]) for host in _hosts(certificate)}
        refs = list(dict.fromkeys([*wanted, *moving]))
        missing = [ref for ref in refs if ref.removeprefix(PREMIUM_PREFIX) not in bound]
        if missing:
            self._apply_to_hosts(request.region, target_id, missing)
        attached = [ref.removeprefix(PREMIUM_PREFIX) for ref in wanted]
        detail = f"applied to {len(attached)} protected domain(s)"
        moved = [ref for ref in moving if ref in missing and ref not in wanted]
        if moved:
            detail += f"; moved {len(moved)} protected domain(s) from its earlier version(s)"
        return AttachResult(attached=attached, detail=detail)

    # -- lookups ---------------------------------------------------------------------------------
    def _list(self, region: str, name: str, hosts: Sequence[bool] = (False, True)) -> list[dict[str, Any]]:
        """Every certificate whose name contains ``name`` (WAF's name filter is a fuzzy match), applied
        to a domain or not: ListCertificates lists one or the other (``host``, "default false")."""
        found: dict[str, dict[str, Any]] = {}
        for host in hosts:
            for page in range(1, MAX_PAGES + 1):
                params = self._query(page=page, pagesize=PAGE_SIZE, name=name, host=host)
                body = self._client.call(WAF, region, "GET", CERTIFICATES_PATH, params=params)
                items = [item for item in body.get("items") or [] if isinstance(item, Mapping) and item.get("id")]
                found.update((str(item["id"]), dict(item)) for item in items)
                total = body.get("total")
                if not items or not isinstance(total, int) or page * PAGE_SIZE >= total:
                    break
        return list(found.values())

    def list_named(self, region: str, name: str, hosts: Sequence[bool] = (False, True)) -> list[dict[str, Any]]:
        """The certificates with exactly this name, oldest first."""
        named = [item for item in self._list(region, name, hosts) if item.get("name") == name]
        return sorted(named, key=lambda item: (item.get("timestamp") or 0, str(item["id"])))

    def find_by_name(self, region: str, name: str) -> dict[str, Any] | None:
        """The oldest certificate with exactly this name."""
        named = self.list_named(region, name)
        return named[0] if named else None

    def get(self, region: str, certificate_id: str) -> dict[str, Any] | None:
        """The certificate with this id (with ``bind_host``), or None when WAF has none."""
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}"
        try:
            return self._client.call(WAF, region, "GET", path, params=self._query())
        except PermanentPushError as exc:
            if exc.code in WAF_NOT_FOUND_CODES:
                return None
            raise

    def _hosts_of_other_versions(self, request: PushRequest) -> list[str]:
        """The protected domains (as attach references) that other versions of this certificate are
        applied to: certificates named like this one but for the version."""
        name = request.deterministic_name
        stem = name[: len(name) - len(f"v{request.certificate.version}")]
        refs: list[str] = []
        for item in self._list(request.region, stem, hosts=(True,)):
            rest = str(item.get("name") or "")[len(stem) :]
            if not str(item.get("name") or "").startswith(stem) or not _VERSION_SUFFIX.fullmatch(rest):
                continue
            if rest == f"v{request.certificate.version}":
                continue
            for host in _hosts(item):
                premium = host.get("waf_type") == "premium"
                refs.append(f"{PREMIUM_PREFIX if premium else ''}{host['id']}")
        return refs

    # -- changes ---------------------------------------------------------------------------------
    def _body(self, request: PushRequest, name: str) -> dict[str, str]:
        return {
            "name": name,
            "content": request.material.full_chain_pem,
            "key": traditional_pem(request.material.private_key_pem.get_secret_value()),
        }

    def _update_in_place(self, request: PushRequest, name: str, certificate_id: str) -> dict[str, Any] | None:
        """UpdateCertificate (``PUT .../waf/certificate/{id}``, body name, content, key) of the certificate
        the binding names, when WAF allows it: the region's API replaces content (``waf_updates_content``)
        and no domain uses the certificate. None when it does not, or the certificate is gone: the push
        then creates a new one (and its attach moves the domains)."""
        if not waf_updates_content(request.region):
            return None
        current = self.get(request.region, certificate_id)
        if current is None or _hosts(current):
            return None
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}"
        try:
            self._client.call(
                WAF, request.region, "PUT", path, params=self._query(), json_body=self._body(request, name)
            )
        except PermanentPushError as exc:
            if exc.code == WAF_IN_USE or exc.code in WAF_NOT_FOUND_CODES:  # applied or deleted meanwhile
                return None
            raise
        return self.get(request.region, certificate_id)

    def _create(self, request: PushRequest, name: str) -> dict[str, Any]:
        try:
            created = self._client.call(
                WAF,
                request.region,
                "POST",
                CERTIFICATES_PATH,
                params=self._query(),
                json_body=self._body(request, name),
            )
        except PermanentPushError as exc:
            if exc.code not in WAF_DUPLICATE_NAME_CODES:
                raise
            existing = self.find_by_name(request.region, name)
            if existing is None:  # the name is taken but not listed yet: ask again later
                raise TransientPushError(exc.code, f"name {name} is taken but not listed yet") from exc
            return existing
        if not created.get("id"):
            raise TransientPushError("INVALID_RESPONSE", "WAF answered a create without a certificate id")
        return created

    def _keep_one(
        self, region: str, name: str, found: list[dict[str, Any]], preferred: str | None
    ) -> tuple[dict[str, Any], str]:
        """Of certificates sharing one name, the one to keep (the binding's, else one a domain uses,
        else the oldest: every pusher chooses the same) and a note of the others: deleted when no
        domain uses them, left otherwise. Looks again until what it keeps is all that is left of them
        (another pusher may be deleting at the same time)."""
        removed: list[str] = []
        left: set[str] = set()
        for _ in range(KEEP_ONE_ROUNDS):
            if not found:
                raise TransientPushError("NOT_LISTED", f"WAF lists no certificate named {name} any more: look again")
            chosen = [item for item in found if str(item["id"]) == preferred]
            kept = chosen[0] if chosen else _oldest([item for item in found if _hosts(item)] or found)
            extras = [item for item in found if item is not kept and str(item["id"]) not in left]
            if not extras:
                return kept, _duplicates_note(removed, left, "applied to protected domains")
            for item in extras:
                if _hosts(item) or not self._delete(region, str(item["id"])):
                    left.add(str(item["id"]))
                else:
                    removed.append(str(item["id"]))
            found = self.list_named(region, name)
        raise TransientPushError("DUPLICATES", f"certificates named {name} keep appearing: look again later")

    def _delete(self, region: str, certificate_id: str) -> bool:
        """Deletes the certificate; False when a domain uses it (WAF refuses)."""
        try:
            self.retract(region, certificate_id)
        except PermanentPushError as exc:
            if exc.code == WAF_IN_USE:
                return False
            raise
        return True

    def _apply_to_hosts(self, region: str, certificate_id: str, refs: list[str]) -> None:
        cloud = [ref for ref in refs if not ref.startswith(PREMIUM_PREFIX)]
        premium = [ref[len(PREMIUM_PREFIX) :] for ref in refs if ref.startswith(PREMIUM_PREFIX)]
        payload: dict[str, list[str]] = {}
        if cloud:
            payload["cloud_host_ids"] = cloud
        if premium:
            payload["premium_host_ids"] = premium
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}/apply-to-hosts"
        self._client.call(WAF, region, "POST", path, params=self._query(), json_body=payload)

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
