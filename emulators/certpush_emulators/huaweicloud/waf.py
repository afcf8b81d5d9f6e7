"""WAF v1 as the simulator serves it: the certificate store of a region (ListCertificates,
CreateCertificate, ShowCertificate, UpdateCertificate, DeleteCertificate) and ApplyCertificateToHost.
https://support.huaweicloud.com/api-waf/"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from certpush_emulators.huaweicloud.state import (
    Material,
    RegionState,
    SimResponse,
    SimState,
    WafCertificate,
    WafHost,
    error,
    new_id,
    not_found,
    parse_material,
    refuse_unknown_query,
)

WAF_BAD_BODY = "WAF.00011003"
WAF_BAD_ID = "WAF.00011004"
WAF_BAD_NAME = "WAF.00011005"
WAF_BAD_PAGE = "WAF.00011011"
WAF_DUPLICATE_NAME = "WAF.00011016"
WAF_ILLEGAL_CERTIFICATE = "WAF.00011019"
WAF_EXPIRED_CERTIFICATE = "WAF.00011021"
WAF_PROJECT_MISMATCH = "WAF.00012002"
WAF_NOT_SUBSCRIBED = "WAF.00012005"
WAF_NOT_FOUND = "WAF.00014002"
WAF_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")


class WafService:
    ROUTE = re.compile(r"^/v1/(?P<project>[^/]+)/waf/certificate(?:/(?P<id>[^/]+)(?P<apply>/apply-to-hosts)?)?/?$")
    # ListCertificates (https://support.huaweicloud.com/api-waf/ListCertificates.html): page, pagesize
    # 1-100, fuzzy name, host (true: only certificates applied to a domain, false: only those that are
    # not; absent: all), exp_status (0 valid, 1 expired, 2 expires within a month). query_scm asks for
    # certificates that come from CCM as well: the simulator holds none, so it changes nothing.
    LIST_FILTERS = frozenset({"page", "pagesize", "name", "host", "exp_status", "query_scm", "enterprise_project_id"})

    def __init__(self, state: SimState) -> None:
        self._state = state

    # -- console actions (admin) -----------------------------------------------------------------
    def add_host(self, region: str, hostname: str, host_id: str | None = None, mode: str = "cloud") -> str:
        host = WafHost(id=host_id or new_id(), hostname=hostname, mode=mode)
        self._state.region(region).waf_hosts[host.id] = host
        return host.id

    def state_view(self, region: str, st: RegionState) -> dict[str, Any]:
        return {
            "certificates": [self.view(region, c) for c in st.waf_certificates.values()],
            "hosts": [asdict(h) for h in st.waf_hosts.values()],
        }

    # -- requests --------------------------------------------------------------------------------
    def handle(self, method: str, region: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        match = self.ROUTE.match(path)
        if match is None:
            raise not_found()
        st = self._state.region(region)
        certificate_id = match["id"]
        if certificate_id is None:
            if method == "GET":
                return self._list(region, st, query)
            if method == "POST":
                return self._create(region, st, payload)
        elif match["apply"]:
            if method == "POST":
                return self._apply(region, st, certificate_id, payload)
        else:
            certificate = st.waf_certificates.get(certificate_id)
            if certificate is None:
                raise error(404, WAF_NOT_FOUND, "certificate not found")
            if method == "GET":
                return SimResponse(200, self.view(region, certificate, with_content=True))
            if method == "PUT":
                return self._update(region, st, certificate, payload)
            if method == "DELETE":
                for host in st.waf_hosts.values():
                    if host.certificate_id == certificate_id:
                        host.certificate_id = None
                del st.waf_certificates[certificate_id]
                self._state.count("waf.delete")
                return SimResponse(200, {"id": certificate_id, "name": certificate.name})
        raise error(405, WAF_BAD_BODY, f"{method} is not allowed here")

    def view(self, region: str, certificate: WafCertificate, *, with_content: bool = False) -> dict[str, Any]:
        now = self._state.now()
        not_after = certificate.material.not_after
        exp_status = 1 if not_after <= now else (2 if not_after - now < timedelta(days=30) else 0)
        view: dict[str, Any] = {
            "id": certificate.id,
            "name": certificate.name,
            "expire_time": int(not_after.timestamp() * 1000),
            "exp_status": exp_status,
            "timestamp": certificate.timestamp,
            "bind_host": [
                {"id": h.id, "hostname": h.hostname, "waf_type": h.mode}
                for h in self._state.region(region).waf_hosts.values()
                if h.certificate_id == certificate.id
            ],
        }
        if with_content:
            view["content"] = certificate.material.content
        return view

    def _list(self, region: str, st: RegionState, query: list[tuple[str, str]]) -> SimResponse:
        refuse_unknown_query(query, self.LIST_FILTERS)
        params = dict(query)
        try:
            page = int(params.get("page", "1"))
            pagesize = int(params.get("pagesize", "10"))
        except ValueError as exc:
            raise error(400, WAF_BAD_PAGE, "pageOrPageSize.illegal") from exc
        if page < 1 or not 1 <= pagesize <= 100:
            raise error(400, WAF_BAD_PAGE, "pageOrPageSize.illegal")
        name = params.get("name")
        views = [self.view(region, c) for c in st.waf_certificates.values() if not name or name in c.name]
        if "host" in params:
            if params["host"] not in ("true", "false"):
                raise error(400, WAF_BAD_BODY, "host must be true or false")
            views = [v for v in views if bool(v["bind_host"]) == (params["host"] == "true")]
        if "exp_status" in params:
            if params["exp_status"] not in ("0", "1", "2"):
                raise error(400, WAF_BAD_BODY, "exp_status must be 0, 1 or 2")
            views = [v for v in views if str(v["exp_status"]) == params["exp_status"]]
        views.sort(key=lambda v: (-v["timestamp"], v["id"]))
        chosen = views[(page - 1) * pagesize : page * pagesize]
        return SimResponse(200, {"total": len(views), "items": chosen})

    def _fields(self, payload: Any) -> tuple[str, Material]:
        if not isinstance(payload, dict):
            raise error(400, WAF_BAD_BODY, "request.body.illegal")
        name = payload.get("name")
        # CreateCertificate / UpdateCertificate: "digits, letters, -, _ and ., at most 256 characters"
        # (https://support.huaweicloud.com/api-waf/CreateCertificate.html).
        if not isinstance(name, str) or not WAF_NAME_RE.match(name):
            raise error(400, WAF_BAD_NAME, "name.illegal")
        material = parse_material(
            payload.get("content"),
            payload.get("key"),
            now=self._state.now(),
            illegal=WAF_ILLEGAL_CERTIFICATE,
            expired=WAF_EXPIRED_CERTIFICATE,
        )
        return name, material

    def _create(self, region: str, st: RegionState, payload: Any) -> SimResponse:
        name, material = self._fields(payload)
        if any(c.name == name for c in st.waf_certificates.values()):
            raise error(400, WAF_DUPLICATE_NAME, "name.duplicate")
        certificate = WafCertificate(new_id(), name, material, self._state.now_ms())
        st.waf_certificates[certificate.id] = certificate
        self._state.count("waf.create")
        return SimResponse(200, self.view(region, certificate))

    def _update(self, region: str, st: RegionState, certificate: WafCertificate, payload: Any) -> SimResponse:
        # UpdateCertificate (https://support.huaweicloud.com/api-waf/UpdateCertificate.html): name is
        # required; content and key replace the certificate in place, for every domain it is applied to.
        if isinstance(payload, dict) and "content" not in payload and "key" not in payload:
            payload = {**payload, "content": certificate.material.content, "key": certificate.material.key}
        name, material = self._fields(payload)
        if any(c.name == name and c.id != certificate.id for c in st.waf_certificates.values()):
            raise error(400, WAF_DUPLICATE_NAME, "name.duplicate")
        certificate.name, certificate.material = name, material
        self._state.count("waf.update")
        return SimResponse(200, self.view(region, certificate))

    def _apply(self, region: str, st: RegionState, certificate_id: str, payload: Any) -> SimResponse:
        certificate = st.waf_certificates.get(certificate_id)
        if certificate is None:
            raise error(404, WAF_NOT_FOUND, "certificate not found")
        if not isinstance(payload, dict):
            raise error(400, WAF_BAD_BODY, "request.body.illegal")
        cloud = payload.get("cloud_host_ids") or []
        premium = payload.get("premium_host_ids") or []
        if not isinstance(cloud, list) or not isinstance(premium, list) or not (cloud or premium):
            raise error(400, WAF_BAD_BODY, "cloud_host_ids or premium_host_ids is required")
        # ApplyCertificateToHost (https://support.huaweicloud.com/api-waf/ApplyCertificateToHost.html):
        # cloud_host_ids are cloud-mode protected domains, premium_host_ids dedicated-mode ones.
        for host_ids, mode in ((cloud, "cloud"), (premium, "premium")):
            for host_id in host_ids:
                host = st.waf_hosts.get(host_id) if isinstance(host_id, str) else None
                if host is None or host.mode != mode:
                    raise error(400, WAF_BAD_ID, f"id.illegal: no {mode} protected domain {host_id}")
        for host_id in [*cloud, *premium]:
            st.waf_hosts[host_id].certificate_id = certificate_id
        self._state.count("waf.apply")
        view = self.view(region, certificate)
        return SimResponse(200, {k: view[k] for k in ("id", "name", "timestamp", "expire_time", "bind_host")})
