"""The records API handler (functions/records_api) on fakes: routes, error bodies that match the
documented schemas, and the committed OpenAPI document equal to what the code generates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from certpush.logic.dashboard import Dashboard
from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, TargetKey
from certpush.providers.huaweicloud.hints import HINTS as HUAWEI_HINTS
from certpush.providers.registry import hint_for
from certpush_cli.dashboard import openapi_document
from certpush_cli.function_url import LocalLambdaContext, function_url_event
from tests.fakes import (
    FixedClock,
    InMemoryCertificateStore,
    InMemoryPushQuery,
    InMemoryRecordsRepository,
    RecordingPublisher,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def issued() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def dashboard(
    store: InMemoryCertificateStore, records: InMemoryRecordsRepository, clock: FixedClock, issued: Any
) -> Dashboard:
    return Dashboard(store, records, InMemoryPushQuery(records), issued, clock, expiry_warning_days=30,
                     hint_for=hint_for)  # fmt: skip


@pytest.fixture
def call(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, dashboard: Dashboard
) -> Callable[..., tuple[int, Any]]:
    app = load_app("records_api")

    def request(method: str, target: str) -> tuple[int, Any]:
        event = function_url_event(method, target, {"accept": "application/json"}, b"", 8765)
        answer = app.handler(event, lambda_context, dashboard=dashboard)
        body = answer["body"]
        is_json = answer["headers"]["Content-Type"].startswith("application/json")
        return answer["statusCode"], json.loads(body) if is_json else body

    return request


def _finished(records: InMemoryRecordsRepository, clock: FixedClock, certificate: CertificateVersion,
              target: TargetKey, status: PushStatus, reason: str | None = None) -> None:  # fmt: skip
    now = clock.now()
    record = PushRecord(
        certificate_id=certificate.certificate_id, version=certificate.version, provider=target.provider,
        service=target.service, region=target.region, status=status, reason=reason, issuance_id="iss-1",
        push_id=f"push-{target}", created_at=now, updated_at=now,
        console_url="https://console.example" if status is PushStatus.SUCCEEDED else None,
    )  # fmt: skip
    records.current[(certificate.certificate_id, certificate.version, target)] = record
    records.history_items.append(record)


@pytest.fixture
def three_states(hosted_certificate: CertificateVersion, records: InMemoryRecordsRepository, clock: FixedClock) -> str:
    for provider, service, region, status, reason in (
        ("aws", "elb", "us-east-1", PushStatus.SUCCEEDED, None),
        ("huaweicloud", "waf", "ap-southeast-2", PushStatus.FAILED, "WAF.00012005"),
        ("aws", "elb", "mars-1", PushStatus.REJECTED, "REGION_NOT_OFFERED"),
    ):
        target = TargetKey(provider=provider, service=service, region=region)
        _finished(records, clock, hosted_certificate, target, status, reason)
    return hosted_certificate.certificate_id


def test_a_certificate_lists_its_targets_records_and_history(call, three_states):
    status, body = call("GET", f"/certificates/{three_states}")

    assert status == 200
    assert body["summary"]["targets"] == {
        **{status.value: 0 for status in PushStatus},
        "SUCCEEDED": 1,
        "FAILED": 1,
        "REJECTED": 1,
    }
    assert {t["region"]: t["status"] for t in body["targets"]} == {
        "us-east-1": "SUCCEEDED", "ap-southeast-2": "FAILED", "mars-1": "REJECTED"}  # fmt: skip
    assert len(body["history"]) == 3 and body["history"][0]["region"] == "mars-1"


def test_replay_emits_one_issuance_of_the_failed_targets(call, three_states, issued):
    status, body = call("POST", f"/certificates/{three_states}/replay")

    assert status == 200 and body["targets"] == ["huaweicloud:waf:ap-southeast-2"]
    (detail,) = issued.issued
    assert detail.replay and detail.issuance_id == body["issuance_id"]
    assert [(t.provider, t.service, t.regions) for t in detail.targets or []] == [
        ("huaweicloud", "waf", ["ap-southeast-2"])]  # fmt: skip


def test_replay_of_one_target_pushes_that_target_alone(call, three_states, issued, records, clock, store):
    second = TargetKey(provider="aws", service="elb", region="eu-west-1")
    _finished(records, clock, store.get_version(three_states, 1), second, PushStatus.FAILED, "TIMEOUT")

    status, body = call("POST", f"/certificates/{three_states}/replay?target=aws:elb:eu-west-1")
    succeeded_status, succeeded = call("POST", f"/certificates/{three_states}/replay?target=aws:elb:us-east-1")
    invalid_status, invalid = call("POST", f"/certificates/{three_states}/replay?target=aws:elb")

    assert status == 200 and body["targets"] == ["aws:elb:eu-west-1"]
    (detail,) = issued.issued  # one issuance: the SUCCEEDED target's replay pushed nothing
    assert [(t.provider, t.service, t.regions) for t in detail.targets or []] == [("aws", "elb", ["eu-west-1"])]
    assert succeeded_status == 200 and succeeded["issuance_id"] is None and succeeded["targets"] == []
    assert invalid_status == 422 and invalid["detail"][0]["loc"] == ["query", "target"]


def test_a_record_that_needs_the_operator_carries_its_hint(call, three_states):
    status, body = call("GET", f"/certificates/{three_states}")

    hints = {t["region"]: t["hint"] for t in body["targets"]}
    assert status == 200 and hints["us-east-1"] is None
    assert hints["ap-southeast-2"] == HUAWEI_HINTS["WAF.00012005"]  # the provider's own code
    assert hints["mars-1"] is not None and "records forget" in hints["mars-1"]  # certpush's reason


def test_unknown_certificates_are_404_with_a_message(call):
    not_found = {"statusCode": 404, "message": "certificate nobody is not in the inventory"}
    assert call("GET", "/certificates/nobody") == (404, not_found)
    status, _ = call("POST", "/certificates/nobody/replay")
    assert status == 404


def test_invalid_parameters_are_422_with_the_documented_fields(call):
    status, body = call("GET", "/pushes?limit=0&status=LOST")

    assert status == 422
    assert {tuple(d["loc"]) for d in body["detail"]} == {("query", "limit"), ("query", "status")}
    assert all(d["msg"] and d["type"] for d in body["detail"])


def test_a_foreign_cursor_is_400(call):
    assert call("GET", "/pushes?cursor=abc")[0] == 400


def test_pages_follow_each_other_with_the_signed_cursor(call, three_states):
    status, first = call("GET", "/pushes?limit=2")
    assert status == 200 and len(first["pushes"]) == 2 and first["next_cursor"]
    status, second = call("GET", f"/pushes?limit=2&cursor={first['next_cursor']}")
    assert status == 200 and len(second["pushes"]) == 1 and second["next_cursor"] is None
    seen = [p["push_id"] for p in first["pushes"] + second["pushes"]]
    assert len(set(seen)) == 3


def test_a_changed_or_forged_cursor_is_400_before_the_store_reads_it(call, three_states):
    """Issue 18: cursors are signed (HMAC): the store's position never comes from a client unchecked."""
    _, first = call("GET", "/pushes?limit=1")
    cursor = first["next_cursor"]
    position, mac = cursor.rsplit(".", 1)
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for changed in (f"0.{mac}", f"{position}.{flipped}", position, f"{position}.", "1.2.3"):
        status, body = call("GET", f"/pushes?limit=1&cursor={changed}")
        assert status == 400, changed
        assert "cursor" in body["message"]
    # a cursor is good only for the query that made it
    assert call("GET", f"/pushes?limit=1&status=FAILED&cursor={cursor}")[0] == 400
    assert call("GET", f"/pushes?limit=1&cursor={cursor}")[0] == 200


def test_another_dashboard_s_cursor_is_400(call, three_states, store, records, clock):
    """Another key (another deployment, or a process without RECORDS_API_CURSOR_KEY) signed it."""
    from certpush.logic.dashboard import Dashboard
    from certpush.models.domain import PushQuery
    from tests.fakes import InMemoryPushQuery

    other = Dashboard(store, records, InMemoryPushQuery(records), None, clock)  # type: ignore[arg-type]
    cursor = other.push_page(PushQuery(), 1, None).next_cursor
    assert cursor is not None
    assert call("GET", f"/pushes?limit=1&cursor={cursor}")[0] == 400


@pytest.mark.parametrize(
    "window",
    [
        "since=0001-01-01T00:00:00%2B01:00",
        "until=0001-01-01T00:00:00%2B01:00",
        "since=9999-12-31T23:00:00-05:00",
        "until=9999-12-31T23:59:59-00:01",
    ],
)
def test_a_date_time_out_of_range_in_utc_is_400(call, window):
    """Issue 18: 0001-01-01T00:00:00+01:00 is before year 1 in UTC: it answered 502 (an OverflowError)."""
    status, body = call("GET", f"/pushes?{window}")
    assert status == 400, body
    assert "out of range" in body["message"]


def test_summary_counts_current_records(call, three_states):
    status, body = call("GET", "/summary")

    assert status == 200
    assert body["pushes"]["FAILED"] == 1 and body["certificates"] == 1 and body["expiring"] == 0


def test_the_page_is_html_that_calls_the_api(call):
    status, body = call("GET", "/")

    assert status == 200
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert "fetch(" in body


def test_the_page_may_run_only_its_own_script_and_style_and_never_be_framed(load_app, lambda_context, dashboard):
    import base64
    import hashlib
    import re

    app = load_app("records_api")
    answer = app.handler(function_url_event("GET", "/", {}, b"", 8765), lambda_context, dashboard=dashboard)
    policy = answer["headers"]["Content-Security-Policy"]
    html = answer["body"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))

    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        (inline,) = re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert directives[directive] == f"'sha256-{digest}'"  # that one, and nothing else (no 'unsafe-inline')
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'none'"
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
    assert "X-Certpush-Token" in html  # the page sends this run's token (certpush dashboard)


def test_the_committed_openapi_document_is_what_the_code_generates():
    committed = (ROOT / "docs" / "openapi.json").read_text()

    assert committed == openapi_document(), "docs/openapi.json is stale: run make openapi"


def test_a_certificate_within_the_warning_threshold_is_flagged(
    load_app, lambda_context, store, records, clock, three_states
):
    app = load_app("records_api")
    dashboard = Dashboard(store, records, InMemoryPushQuery(records), RecordingPublisher(), clock, 365)
    event = function_url_event("GET", "/certificates", {}, b"", 8765)

    body = json.loads(app.handler(event, lambda_context, dashboard=dashboard)["body"])

    (certificate,) = body["certificates"]
    assert certificate["expiry"]["expiring"] is True and body["expiry_warning_days"] == 365
