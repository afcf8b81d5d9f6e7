"""The records API: the dashboard page and what it reads. Each route parses its parameters (Powertools
validation), makes one call into ``certpush.logic.dashboard`` and returns a pydantic model. Deployed,
``functions/records_api`` serves it behind a Function URL (AWS_IAM auth); on one machine
``certpush dashboard`` and ``certpush serve`` serve it on 127.0.0.1 (``certpush_cli.function_url``).
The OpenAPI document of these routes is docs/openapi.json (make openapi)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from certpush.errors import CertificateNotFoundError, InvalidQueryError
from certpush.logic.dashboard import Dashboard
from certpush.models.api import (
    ApiError,
    CertificateDetail,
    CertificateList,
    PushPage,
    ReplayResult,
    Summary,
    ValidationErrorBody,
    ValidationIssue,
)
from certpush.models.domain import CERTIFICATE_ID_PATTERN, CERTIFICATE_ID_RULE, PushQuery, PushStatus, TargetKey
from certpush.settings import Settings
from certpush.wiring import build_dashboard

logger = Logger(child=True)
app = LambdaFunctionUrlResolver(enable_validation=True)

PAGE = Path(__file__).with_name("dashboard.html")  # package data, beside this module
TARGET_PATTERN = r"^[a-z0-9-]{1,32}:[a-z0-9-]{1,32}:[a-z0-9-]{1,64}$"  # provider:service:region
CertificateIdParam = Annotated[
    str,
    PathParam(pattern=CERTIFICATE_ID_PATTERN, description=f"certificate id in the inventory: {CERTIFICATE_ID_RULE}"),
]


def _iso_8601(value: object) -> object:
    """pydantic would read ``0.5`` as a Unix time; the document promises ISO 8601 date-times only."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO 8601 date-time, e.g. 2026-11-27T08:00:00Z")
    return value


DateTimeParam = Annotated[datetime, BeforeValidator(_iso_8601)]


def _utc(value: datetime | None, name: str) -> datetime | None:
    """``value`` in UTC (UTC when it has no offset). A date-time whose UTC falls outside years 1 to
    9999 (``0001-01-01T00:00:00+01:00``) is a 400, not an OverflowError further in."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:
        raise InvalidQueryError(f"{name} is out of range: in UTC it falls outside the years 1 to 9999") from exc


def _answers(model: type, **errors: str) -> dict[int, Any]:
    """200 with ``model`` and the given error statuses (``e404="why"``): once a route lists responses,
    Powertools documents only those (422 aside)."""
    answers: dict[int, Any] = {200: {"description": "OK", "content": {"application/json": {"model": model}}}}
    for status, description in errors.items():
        answers[int(status[1:])] = {"description": description, "content": {"application/json": {"model": ApiError}}}
    return answers


@cache
def _dashboard() -> Dashboard:
    return build_dashboard(Settings.from_env(os.environ))


def _service() -> Dashboard:
    return app.context.get("dashboard") or _dashboard()


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[dict[str, Any]]:
    """Powertools' default 422 body has no ``msg``, which its own documented schema requires."""
    issues = [ValidationIssue(loc=list(e["loc"]), msg=str(e.get("msg", "")), type=str(e["type"])) for e in exc.errors()]
    return Response(
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        content_type=content_types.APPLICATION_JSON,
        body=ValidationErrorBody(detail=issues).model_dump(mode="json"),
    )


@app.exception_handler(InvalidQueryError)
def _bad_query(exc: InvalidQueryError) -> Response[dict[str, Any]]:
    return Response(
        status_code=HTTPStatus.BAD_REQUEST,
        content_type=content_types.APPLICATION_JSON,
        body=ApiError(statusCode=400, message=str(exc)).model_dump(),
    )


@app.get(
    "/",
    summary="The dashboard page",
    responses={
        200: {
            "description": "HTML page (plain HTML and fetch)",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
)
def page() -> Response[str]:
    html, policy = _page()
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=html,
        headers={
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
        },
    )


@cache
def _page() -> tuple[str, str]:
    """The page and its Content-Security-Policy: its one inline script and style, named by their
    SHA-256 (CSP Level 3, hash-source), may run; it fetches from its own origin only, sends no form,
    loads nothing else, and no page may frame it."""
    html = PAGE.read_text()

    def hashes(tag: str) -> str:
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.DOTALL)
        digests = (base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() for body in bodies)
        return " ".join(f"'sha256-{digest}'" for digest in digests)

    policy = (
        f"default-src 'none'; script-src {hashes('script')}; style-src {hashes('style')}; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html, policy


@app.get("/certificates", summary="Every certificate with a summary of its pushes, failures first, paginated")
def certificates(
    failed: Annotated[bool, Query(description="only certificates with a target FAILED or ATTACH_FAILED")] = False,
    q: Annotated[str | None, Query(max_length=256, description="a part of the id or of a name, any case")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="next_offset of the previous page")] = 0,
) -> CertificateList:
    return _service().certificates(failed_only=failed, search=q, limit=limit, offset=offset)


@app.get(
    "/certificates/<certificate_id>",
    summary="A certificate's targets, records and latest 10 push records",
    responses=_answers(CertificateDetail, e404="not in the inventory"),
)
def certificate(certificate_id: CertificateIdParam) -> CertificateDetail:
    try:
        return _service().certificate(certificate_id)
    except CertificateNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc


@app.post(
    "/certificates/<certificate_id>/replay",
    summary="Push again every FAILED target of a version, or one of them",
    responses=_answers(ReplayResult, e404="no push records (of that version)"),
)
def replay(
    certificate_id: CertificateIdParam,
    version: Annotated[int | None, Query(ge=1, description="default: the latest version with records")] = None,
    target: Annotated[
        str | None,
        Query(
            pattern=TARGET_PATTERN,
            max_length=130,
            description="provider:service:region: only this target, if it is FAILED or ATTACH_FAILED (default: every "
            "such target of the version)",
        ),
    ] = None,
) -> ReplayResult:
    only = TargetKey(**dict(zip(("provider", "service", "region"), target.split(":"), strict=True))) if target else None
    result = _service().replay(certificate_id, version, only)
    if result is None:
        raise NotFoundError(f"no push records for {certificate_id}" + (f" version {version}" if version else ""))
    logger.info("replay", extra={"certificate_id": certificate_id, "targets": result.targets})
    return result


@app.get(
    "/pushes",
    summary="Push records by status, target or time, newest first, paginated",
    responses=_answers(
        PushPage,
        e400="a cursor this API did not hand out for this query (or a changed one), a date-time out of range, "
        "or a time window that is reversed or too long",
    ),
)
def pushes(
    status: Annotated[PushStatus | None, Query(description="current records in this status (index ByStatus)")] = None,
    provider: Annotated[str | None, Query(max_length=32)] = None,
    service: Annotated[str | None, Query(max_length=32)] = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[DateTimeParam | None, Query(description="ISO 8601; UTC when no offset is given")] = None,
    until: Annotated[DateTimeParam | None, Query(description="ISO 8601; UTC when no offset is given")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="next_cursor of the previous page (signed: use it as given)")
    ] = None,
) -> PushPage:
    query = PushQuery(
        status=status,
        provider=provider,
        service=service,
        region=region,
        since=_utc(since, "since"),
        until=_utc(until, "until"),
    )
    return _service().push_page(query, limit, cursor)


@app.get("/summary", summary="Counts for dashboards")
def summary() -> Summary:
    return _service().summary()


def resolve(event: dict[str, Any], context: Any, dashboard: Dashboard | None = None) -> dict[str, Any]:
    """One request: a Function URL (payload 2.0) event in, its answer out. ``dashboard``: the service
    to answer with (the local servers pass theirs; on Lambda it is built from the environment)."""
    if dashboard is not None:
        app.append_context(dashboard=dashboard)
    return app.resolve(event, context)
