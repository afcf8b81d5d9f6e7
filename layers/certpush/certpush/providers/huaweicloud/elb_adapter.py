"""Huawei Cloud ELB (dedicated, v3 API) as a push target.

ELB does not refuse duplicate certificate names, so idempotence is ours: the certificate is named
``PushRequest.deterministic_name``; a push reuses a server certificate with that name, or failing that
one with the same fingerprint, before it creates one. After a create it looks again: two certificates
with its name (a concurrent push, or a create that landed after its client timed out) are one too many;
every pusher keeps the same one (the binding's, else one a listener uses, else the oldest) and deletes
the others no listener uses, and says so in the record's message. It then binds the certificate to listeners:
``options.attach`` (``region/listener_id``) as an SNI certificate, ``options.attach_default`` as the
listener's default certificate. A new version of a certificate already in the region renews it in place
(same id, so every listener keeps it); an SNI certificate replaces those that share one of its domains.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certpush.errors import PermanentPushError, TransientPushError
from certpush.models.domain import AttachResult, PushRequest, UploadAction, UploadResult
from certpush.providers.huaweicloud.console import (
    DEFAULT_ELB_CONSOLE_TEMPLATE,
    ConsoleLinkedTarget,
)
from certpush.providers.huaweicloud.keys import traditional_pem
from certpush.providers.huaweicloud.references import references_in_region
from certpush.providers.huaweicloud.regions import ELB

CERTIFICATES_PATH = "/v3/{project_id}/elb/certificates"
LISTENERS_PATH = "/v3/{project_id}/elb/listeners"
LISTENER_PATH = LISTENERS_PATH + "/{listener_id}"
PAGE_SIZE = 100
MAX_PAGES = 50
MAX_DOMAINS = 100
TLS_PROTOCOLS = frozenset({"HTTPS", "TLS", "QUIC"})
NOT_FOUND_CODES = frozenset({"ELB.8904", "HTTP_404"})
IN_USE_CODES = frozenset({"ELB.8905", "HTTP_409"})  # the certificate is used by a listener
KEEP_ONE_ROUNDS = 4
_DOMAIN_RE = re.compile(
    r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_NOT_HEX = re.compile(r"[^0-9a-f]")


def _duplicates_note(removed: list[str], left: set[str]) -> str:
    note = ""
    if removed:
        note += f"; removed duplicate(s) {', '.join(removed)} (a concurrent or late create)"
    if left:
        note += f"; duplicate(s) {', '.join(sorted(left))} left: used by listeners"
    return note


def normalise_fingerprint(value: str) -> str:
    """Lowercase hex digits only: ``SHA1 Fingerprint=AB:CD:...`` and ``abcd...`` compare equal."""
    _, _, digits = value.rpartition("=")
    return _NOT_HEX.sub("", digits.lower())


def certificate_fingerprints(certificate_pem: str) -> tuple[str, str]:
    """(sha1, sha256) hex of the leaf certificate's DER encoding."""
    der = x509.load_pem_x509_certificate(certificate_pem.encode("ascii")).public_bytes(Encoding.DER)
    return hashlib.sha1(der, usedforsecurity=False).hexdigest(), hashlib.sha256(der).hexdigest()


def format_sha1_fingerprint(sha1_hex: str) -> str:
    return "SHA1 Fingerprint=" + ":".join(sha1_hex[i : i + 2].upper() for i in range(0, len(sha1_hex), 2))


def elb_domain(names: Iterable[str]) -> str:
    """The certificate's DNS names in ELB's ``domain`` form: valid names only, at most 100, comma-joined."""
    seen: dict[str, None] = {}
    for name in names:
        if _DOMAIN_RE.match(name) and not name.replace(".", "").isdigit():
            seen.setdefault(name.lower(), None)
    return ",".join(list(seen)[:MAX_DOMAINS])


class HuaweiElbTarget(ConsoleLinkedTarget):
    provider = "huaweicloud"
    service = ELB

    default_console_template = DEFAULT_ELB_CONSOLE_TEMPLATE

    def upload(self, request: PushRequest) -> UploadResult:
        """Reuses what an earlier attempt made; else renews in place the certificate the binding names
        (another version of the same id: ELB UpdateCertificate, every listener that uses it serves the
        new version at once); else creates one."""
        region = request.region
        name = request.deterministic_name
        found = self._found(request)
        certificate, note = found if found is not None else (None, "")
        action = UploadAction.REUSED
        if certificate is None and request.previous_target_id:
            certificate = self._update_in_place(request, name, request.previous_target_id)
            action = UploadAction.RENEWED_IN_PLACE
        if certificate is None:
            created = self._create(request, name)
            # a concurrent push, or a create that landed late, may have made another one: keep one
            certificate, note = self._keep_one(region, name, self.list_named(region, name) or [created], None)
            action = UploadAction.CREATED if certificate["id"] == created["id"] else UploadAction.REUSED
        words = {UploadAction.REUSED: "reused", UploadAction.RENEWED_IN_PLACE: "renewed in place"}
        return UploadResult(
            target_id=str(certificate["id"]),
            action=action,
            detail=f"{words.get(action, 'created')} ELB certificate {certificate.get('name') or name}{note}",
        )

    def find(self, request: PushRequest) -> UploadResult | None:
        """The certificate named for the version (one renewed in place takes that name too), or one holding
        the same certificate (by fingerprint), as ``upload`` finds it; duplicates removed as it removes them."""
        found = self._found(request)
        if found is None:
            return None
        certificate, note = found
        name = certificate.get("name") or request.deterministic_name
        return UploadResult(
            target_id=str(certificate["id"]), action=UploadAction.REUSED, detail=f"reused ELB certificate {name}{note}"
        )

    def _found(self, request: PushRequest) -> tuple[dict[str, Any], str] | None:
        region, name = request.region, request.deterministic_name
        named = self.list_named(region, name)
        if named:
            return self._keep_one(region, name, named, request.previous_target_id)
        try:
            sha1, sha256 = certificate_fingerprints(request.material.certificate_pem)
        except ValueError as exc:
            raise PermanentPushError("INVALID_CERTIFICATE", "the certificate PEM cannot be parsed") from exc
        certificate = self.find_by_fingerprint(region, sha1, sha256)
        if certificate is None or certificate.get("name") != name:
            return (certificate, "") if certificate is not None else None  # the same certificate, named otherwise
        # made since our first look
        return self._keep_one(region, name, self.list_named(region, name) or [certificate], request.previous_target_id)

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        """Binds the listeners of the options in the region: ``attach`` as an SNI certificate (it takes
        the place of those sharing a domain with it), ``attach_default`` as the default certificate."""
        sni = references_in_region(request.options.attach, request.region)
        if not sni and not references_in_region(request.options.attach_default, request.region):
            return AttachResult()
        domain = ""
        if sni:  # the domains ELB holds for it (ShowCertificate), which decide the SNI certificates it replaces
            certificate = self.get(request.region, target_id)
            if certificate is None:
                raise TransientPushError("ELB.8904", f"ELB certificate {target_id} is not listed yet")
            domain = str(certificate.get("domain") or "")
        listeners = self._bind_listeners(request, target_id, domain)
        return AttachResult(attached=listeners, detail=f"bound to {len(listeners)} listener(s)")

    # -- lookups ---------------------------------------------------------------------------------
    def _list(self, region: str, **filters: str | list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        marker: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, **filters}
            if marker:
                params["marker"] = marker
            body = self._client.call(ELB, region, "GET", CERTIFICATES_PATH, params=params)
            page = [dict(item) for item in body.get("certificates") or [] if isinstance(item, Mapping)]
            found.extend(page)
            page_info = body.get("page_info") if isinstance(body.get("page_info"), Mapping) else {}
            marker = page_info.get("next_marker") if page_info else None
            if not marker or len(page) < PAGE_SIZE:
                break
        return [item for item in found if item.get("id") and item.get("type", "server") == "server"]

    @staticmethod
    def _oldest(items: list[dict[str, Any]]) -> dict[str, Any] | None:
        return min(items, key=lambda item: (str(item.get("created_at") or ""), str(item["id"]))) if items else None

    def list_named(self, region: str, name: str) -> list[dict[str, Any]]:
        """The server certificates with exactly this name, oldest first."""
        named = [item for item in self._list(region, name=name) if item.get("name") == name]
        return sorted(named, key=lambda item: (str(item.get("created_at") or ""), str(item["id"])))

    def find_by_name(self, region: str, name: str) -> dict[str, Any] | None:
        named = self.list_named(region, name)
        return named[0] if named else None

    def _keep_one(
        self, region: str, name: str, found: list[dict[str, Any]], preferred: str | None
    ) -> tuple[dict[str, Any], str]:
        """Of certificates sharing one name (oldest first), the one to keep (the binding's, else one a
        listener uses, else the oldest: every pusher chooses the same) and a note of the others:
        deleted when no listener uses them, left otherwise. Looks again until what it keeps is all that
        is left of them (another pusher may be deleting at the same time)."""
        removed: list[str] = []
        left: set[str] = set()
        users: set[str] | None = None
        for _ in range(KEEP_ONE_ROUNDS):
            if not found:
                raise TransientPushError("NOT_LISTED", f"ELB lists no certificate named {name} any more: look again")
            if len(found) > 1 and users is None:
                users = self._listener_refs(region)
            used_by = users or set()
            chosen = [item for item in found if str(item["id"]) == preferred]
            used = [item for item in found if str(item["id"]) in used_by]
            kept = (chosen or used or found)[0]
            extras = [item for item in found if item is not kept and str(item["id"]) not in left]
            if not extras:
                return kept, _duplicates_note(removed, left)
            for item in extras:
                if str(item["id"]) in used_by:
                    left.add(str(item["id"]))
                    continue
                try:
                    self.retract(region, str(item["id"]))
                    removed.append(str(item["id"]))
                except PermanentPushError as exc:
                    if exc.code not in IN_USE_CODES:  # bound to a listener meanwhile: ELB refuses
                        raise
                    left.add(str(item["id"]))
            found = self.list_named(region, name)
        raise TransientPushError("DUPLICATES", f"certificates named {name} keep appearing: look again later")

    def find_by_fingerprint(self, region: str, sha1: str, sha256: str) -> dict[str, Any] | None:
        wanted = {sha1, sha256}
        items = self._list(region, fingerprint=format_sha1_fingerprint(sha1))
        return self._oldest(
            [item for item in items if normalise_fingerprint(str(item.get("fingerprint") or "")) in wanted]
        )

    def get(self, region: str, certificate_id: str) -> dict[str, Any] | None:
        """The certificate with this id, or None when ELB has none (ShowCertificate answers 404)."""
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}"
        try:
            body = self._client.call(ELB, region, "GET", path)
        except PermanentPushError as exc:
            if exc.code in NOT_FOUND_CODES:
                return None
            raise
        found = body.get("certificate")
        return dict(found) if isinstance(found, Mapping) else None

    # -- changes ---------------------------------------------------------------------------------
    def _option(self, request: PushRequest, name: str) -> dict[str, Any]:
        option: dict[str, Any] = {
            "name": name,
            "description": f"certpush {request.certificate.certificate_id} v{request.certificate.version}"[:255],
            "certificate": request.material.full_chain_pem,
            "private_key": traditional_pem(request.material.private_key_pem.get_secret_value()),
        }
        domain = elb_domain([*request.certificate.sans, request.certificate.common_name])
        if domain:
            option["domain"] = domain
        return option

    def _update_in_place(self, request: PushRequest, name: str, certificate_id: str) -> dict[str, Any] | None:
        """PUT /v3/{project_id}/elb/certificates/{id} with the new version; None when it is gone."""
        if self.get(request.region, certificate_id) is None:
            return None
        path = f"{CERTIFICATES_PATH}/{quote(certificate_id, safe='')}"
        option = self._option(request, name)
        body = self._client.call(ELB, request.region, "PUT", path, json_body={"certificate": option})
        updated = body.get("certificate")
        if not isinstance(updated, Mapping) or not updated.get("id"):
            raise TransientPushError("INVALID_RESPONSE", "ELB answered an update without a certificate")
        return dict(updated)

    def _create(self, request: PushRequest, name: str) -> dict[str, Any]:
        option = {**self._option(request, name), "type": "server"}
        body = self._client.call(ELB, request.region, "POST", CERTIFICATES_PATH, json_body={"certificate": option})
        created = body.get("certificate")
        if not isinstance(created, Mapping) or not created.get("id"):
            raise TransientPushError("INVALID_RESPONSE", "ELB answered a create without a certificate id")
        return dict(created)

    def _sni_refs(self, region: str, refs: list[str], certificate_id: str, domain: str) -> list[str]:
        """The listener's SNI certificates with this one in place of every one that shares a domain:
        ELB refuses two SNI certificates with a domain in common (UpdateListener, sni_container_refs)."""
        if not domain:
            raise PermanentPushError(
                "SNI_NEEDS_DOMAIN", "an SNI certificate must carry a DNS name; attach it as the default instead"
            )
        wanted = {d.lower() for d in domain.split(",") if d}
        others = [ref for ref in refs if ref != certificate_id]
        overlapping: set[str] = set()
        if others:
            for item in self._list(region, id=others):
                if wanted & {d.lower() for d in str(item.get("domain") or "").split(",") if d}:
                    overlapping.add(str(item["id"]))
        return [*(ref for ref in others if ref not in overlapping), certificate_id]

    def _bind_listeners(self, request: PushRequest, certificate_id: str, domain: str) -> list[str]:
        sni = references_in_region(request.options.attach, request.region)
        default = references_in_region(request.options.attach_default, request.region)
        listeners = list(dict.fromkeys([*sni, *default]))
        for listener_id in listeners:
            path = LISTENER_PATH.replace("{listener_id}", quote(listener_id, safe=""))
            body = self._client.call(ELB, request.region, "GET", path)
            listener = body.get("listener")
            if not isinstance(listener, Mapping):
                raise TransientPushError("INVALID_RESPONSE", f"ELB answered no listener for {listener_id}")
            protocol = str(listener.get("protocol") or "").upper()
            if protocol and protocol not in TLS_PROTOCOLS:
                raise PermanentPushError("LISTENER_NOT_TLS", f"listener {listener_id} uses {protocol}, not HTTPS/TLS")
            update: dict[str, Any] = {}
            refs = [str(ref) for ref in listener.get("sni_container_refs") or []]
            if listener_id in sni and certificate_id not in refs:
                update["sni_container_refs"] = self._sni_refs(request.region, refs, certificate_id, domain)
            if listener_id in default and listener.get("default_tls_container_ref") != certificate_id:
                update["default_tls_container_ref"] = certificate_id
            if update:
                self._client.call(ELB, request.region, "PUT", path, json_body={"listener": update})
        return listeners

    # -- retraction ------------------------------------------------------------------------------
    def _listeners(self, region: str) -> list[Mapping[str, Any]]:
        """Every listener of the region (ListListeners has no SNI filter)."""
        listeners: list[Mapping[str, Any]] = []
        marker: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if marker:
                params["marker"] = marker
            body = self._client.call(ELB, region, "GET", LISTENERS_PATH, params=params)
            page = [item for item in body.get("listeners") or [] if isinstance(item, Mapping)]
            listeners.extend(page)
            page_info = body.get("page_info") if isinstance(body.get("page_info"), Mapping) else {}
            marker = page_info.get("next_marker") if page_info else None
            if not marker or len(page) < PAGE_SIZE:
                break
        return listeners

    def _listener_refs(self, region: str) -> set[str]:
        """The ids of every certificate a listener of the region uses."""
        refs: set[str] = set()
        for listener in self._listeners(region):
            refs.update(str(ref) for ref in listener.get("sni_container_refs") or [])
            for key in ("default_tls_container_ref", "client_ca_tls_container_ref"):
                if listener.get(key):
                    refs.add(str(listener[key]))
        return refs

    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """Listeners that hold the certificate as default, SNI or client CA certificate (ListListeners
        has no SNI filter, so every listener of the region is read)."""
        users: list[str] = []
        for listener in self._listeners(region):
            roles = [
                role
                for role, held in (
                    ("default", listener.get("default_tls_container_ref") == target_id),
                    ("SNI", target_id in (listener.get("sni_container_refs") or [])),
                    ("client CA", listener.get("client_ca_tls_container_ref") == target_id),
                )
                if held
            ]
            if roles:
                users.append(f"listener {listener.get('name') or listener.get('id')} ({'/'.join(roles)})")
        return users

    def retract(self, region: str, target_id: str) -> None:
        path = f"{CERTIFICATES_PATH}/{quote(target_id, safe='')}"
        try:
            self._client.call(ELB, region, "DELETE", path)
        except PermanentPushError as exc:
            if exc.code not in NOT_FOUND_CODES:
                raise
