"""IAM v3 as the simulator serves it: the account's projects, one per region, and the account itself
(the domain a global service such as CDN names in ``X-Domain-Id``)."""

from __future__ import annotations

from typing import Any

from certpush_emulators.huaweicloud.state import (
    DOMAIN_ID,
    DOMAIN_NAME,
    IAM_URL,
    SimResponse,
    SimState,
    error,
    not_found,
    refuse_unknown_query,
)

IAM_BAD_REQUEST = "1100"


class IamService:
    # KeystoneListProjects, GET /v3/projects (https://support.huaweicloud.com/api-iam/iam_06_0001.html):
    # every project of the account, or those matching the filters; a region without a project is absent.
    PROJECT_FILTERS = frozenset({"name", "domain_id", "enabled", "is_domain", "parent_id", "page", "per_page"})

    def __init__(self, state: SimState) -> None:
        self._state = state

    def handle(self, method: str, path: str, query: list[tuple[str, str]], payload: Any) -> SimResponse:
        if method != "GET":
            raise not_found()
        if path.rstrip("/") == "/v3/auth/domains":
            return self._domains(query)
        return self._projects(query)

    @staticmethod
    def _domains(query: list[tuple[str, str]]) -> SimResponse:
        # KeystoneListAuthDomains, GET /v3/auth/domains (https://support.huaweicloud.com/api-iam/iam_07_0001.html):
        # the account (domain) the credentials belong to; the SDK asks it for a global service's X-Domain-Id.
        refuse_unknown_query(query, (), code=IAM_BAD_REQUEST)
        domain = {
            "enabled": True,
            "id": DOMAIN_ID,
            "name": DOMAIN_NAME,
            "description": "",
            "links": {"self": f"{IAM_URL}/v3/domains/{DOMAIN_ID}"},
        }
        links = {"self": f"{IAM_URL}/v3/auth/domains", "previous": None, "next": None}
        return SimResponse(200, {"domains": [domain], "links": links})

    def _projects(self, query: list[tuple[str, str]]) -> SimResponse:
        refuse_unknown_query(query, self.PROJECT_FILTERS, code=IAM_BAD_REQUEST)
        params = dict(query)
        projects = [
            {
                "id": project_id,
                "name": region,
                "description": "",
                "domain_id": DOMAIN_ID,
                "parent_id": DOMAIN_ID,
                "enabled": True,
                "is_domain": False,
                "links": {"self": f"{IAM_URL}/v3/projects/{project_id}", "next": None, "previous": None},
            }
            for project_id, region in sorted(self._state.project_regions.items(), key=lambda item: item[1])
        ]
        for key in ("name", "domain_id", "parent_id"):
            if key in params:
                projects = [p for p in projects if p[key] == params[key]]
        for key in ("enabled", "is_domain"):
            if key in params:
                projects = [p for p in projects if str(p[key]).lower() == params[key].lower()]
        try:
            page, per_page = int(params.get("page", "1")), int(params.get("per_page", "5000"))
        except ValueError as exc:
            raise error(400, IAM_BAD_REQUEST, "page and per_page must be integers") from exc
        if page < 1 or not 1 <= per_page <= 5000:
            raise error(400, IAM_BAD_REQUEST, "page >= 1 and per_page within 1-5000")
        chosen = projects[(page - 1) * per_page : page * per_page]
        return SimResponse(
            200,
            {
                "projects": chosen,
                "links": {"self": f"{IAM_URL}/v3/projects", "next": None, "previous": None},
            },
        )
