"""Contracts of the events certpush reads and emits.

- Every event certpush emits (as it goes on the wire, through the EventBridge publisher) validates
  against its JSON Schema in events/schemas/; the committed schemas equal what the models render.
- The sample events in events/ (for ``sam local invoke``) parse with the handlers' parser models."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from certpush.adapters.eventbridge_sns import EventBridgePublisher, PublishError
from certpush.errors import PermanentPushError
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, PushStatus, TargetSpec
from certpush.models.events import (
    DETAIL_TYPE_ISSUED,
    DETAIL_TYPE_PUSHED,
    DETAIL_TYPE_SUMMARY,
    EVENT_SOURCE,
    NOTIFY_SOURCE,
    CertificateIssuedDetail,
    CertificateIssuedEvent,
    IssuanceSummaryDetail,
)
from certpush.models.items import ITEM_HISTORY, record_from_item
from certpush.models.messages import PushMessageRecord
from certpush_cli.schemas import SCHEMAS, render_schemas
from tests.fakes import FakeQueue, InMemoryRecordsRepository, ScriptedTarget
from tests.unit.conftest import CERTIFICATE_ID, ROOT, material_of

pytestmark = pytest.mark.unit

EVENTS = ROOT / "events"
SCHEMA_DIR = EVENTS / "schemas"
SCHEMA_BY_DETAIL_TYPE = {detail_type: filename for filename, (detail_type, _) in SCHEMAS.items()}


@cache
def validator_for(detail_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / SCHEMA_BY_DETAIL_TYPE[detail_type]).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


class RecordingEventsClient:
    """Stands in for the boto3 EventBridge client: keeps every PutEvents entry."""

    def __init__(self, fail: bool = False) -> None:
        self.entries: list[dict[str, Any]] = []
        self.fail = fail

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        """As PutEvents answers: one result per entry, in their order."""
        first = len(self.entries)
        self.entries.extend(Entries)
        if self.fail:
            refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}
            return {"FailedEntryCount": len(Entries), "Entries": [refused for _ in Entries]}
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"id-{first + i + 1}"} for i in range(len(Entries))]}


# -- emitted events ---------------------------------------------------------------------------------
@pytest.fixture
def emitted(
    validator: Validator,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> list[dict[str, Any]]:
    """Every PutEvents entry of a real run: one success, one failure, one rejection, a summary."""
    client = RecordingEventsClient()
    notifier = Notifier(records=records, publisher=EventBridgePublisher("certpush-bus", events_client=client))
    aws_elb.errors.append(PermanentPushError("CertificateRejected", "refused"))
    targets = [
        TargetSpec(provider="aws", service="elb", regions=["us-east-1", "mars-north-1"]),
        TargetSpec(provider="huaweicloud", service="waf", regions=["ap-southeast-1"]),
    ]
    validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, targets=targets), "event-1")
    for message in queue.messages:
        worker.process(message, receive_count=1)
    for record in records.history_items:
        notifier.on_final(record)
    return client.entries


def test_run_emits_one_certificate_pushed_and_one_summary(emitted: list[dict[str, Any]]) -> None:
    assert [(e["Source"], e["DetailType"]) for e in emitted] == [
        (NOTIFY_SOURCE, DETAIL_TYPE_PUSHED),
        (NOTIFY_SOURCE, DETAIL_TYPE_SUMMARY),
    ]
    assert {e["EventBusName"] for e in emitted} == {"certpush-bus"}


def test_every_emitted_event_validates_against_its_schema(emitted: list[dict[str, Any]]) -> None:
    for entry in emitted:
        validator_for(entry["DetailType"]).validate(json.loads(entry["Detail"]))


def test_certificate_issued_event_sent_by_the_cli_validates_against_its_schema() -> None:
    client = RecordingEventsClient()
    detail = CertificateIssuedDetail(
        certificate_id=CERTIFICATE_ID,
        version=2,
        targets=[TargetSpec(provider="aws", service="elb", regions=["us-east-1"])],
        issuance_id="cli-1",
        replay=True,
    )

    EventBridgePublisher("certpush-bus", events_client=client).certificate_issued(detail)

    [entry] = client.entries
    assert (entry["Source"], entry["DetailType"]) == (EVENT_SOURCE, DETAIL_TYPE_ISSUED)
    validator_for(DETAIL_TYPE_ISSUED).validate(json.loads(entry["Detail"]))
    assert CertificateIssuedDetail.model_validate_json(entry["Detail"]) == detail


def test_schema_rejects_an_event_that_breaks_the_contract(emitted: list[dict[str, Any]]) -> None:
    summary = json.loads(emitted[1]["Detail"])
    schema = validator_for(DETAIL_TYPE_SUMMARY)
    with pytest.raises(SchemaError):
        schema.validate({**summary, "outcome": "MOSTLY"})
    with pytest.raises(SchemaError):
        schema.validate({k: v for k, v in summary.items() if k != "issuance_id"})
    pushed = json.loads(emitted[0]["Detail"])
    with pytest.raises(SchemaError):
        validator_for(DETAIL_TYPE_PUSHED).validate({**pushed, "version": "one"})


@given(
    outcomes=st.dictionaries(
        st.from_regex(r"[a-z]{2,10}:[a-z]{3}:[a-z0-9-]{2,20}", fullmatch=True),
        st.sampled_from([PushStatus.SUCCEEDED.value, PushStatus.FAILED.value, PushStatus.REJECTED.value]),
        min_size=1,
        max_size=12,
    )
)
def test_every_summary_validates_against_its_schema(outcomes: dict[str, str]) -> None:
    summary = IssuanceSummaryDetail.from_outcomes("i", "c", 1, outcomes)

    validator_for(DETAIL_TYPE_SUMMARY).validate(json.loads(summary.model_dump_json()))
    assert summary.total == sum(summary.counts.model_dump().values()) == len(outcomes)


def test_publisher_raises_when_eventbridge_refuses_the_event(emitted: list[dict[str, Any]]) -> None:
    publisher = EventBridgePublisher("certpush-bus", events_client=RecordingEventsClient(fail=True))
    summary = IssuanceSummaryDetail.model_validate_json(emitted[1]["Detail"])

    with pytest.raises(PublishError, match="InternalFailure"):
        publisher.issuance_summary(summary)


# -- schema drift -----------------------------------------------------------------------------------
def test_committed_schemas_equal_the_rendered_schemas() -> None:
    rendered = render_schemas()

    committed = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.json")}

    assert committed.keys() == rendered.keys(), "run `certpush schemas --out events/schemas`"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} is stale: run `certpush schemas --out events/schemas`"


# -- sample events ----------------------------------------------------------------------------------
def test_sample_issued_event_with_targets_parses_and_validates(
    validator: Validator, queue: FakeQueue, store_certificate, sample
) -> None:
    event = parse(event=load_event("certificate-issued.json"), model=CertificateIssuedEvent)
    store_certificate(material_of(sample), certificate_id=event.detail.certificate_id)

    outcome = validator.validate(event.detail, event.id)

    assert event.detail_type == DETAIL_TYPE_ISSUED and event.source == EVENT_SOURCE
    assert event.detail.targets
    validator_for(DETAIL_TYPE_ISSUED).validate(load_event("certificate-issued.json")["detail"])
    assert outcome.rejected == {}
    assert len(queue.messages) == sum(len(t.regions) for t in event.detail.targets)


def test_sample_issued_event_without_targets_parses_and_validates() -> None:
    raw = load_event("certificate-issued-policies.json")

    event = parse(event=raw, model=CertificateIssuedEvent)

    assert event.detail.targets is None
    validator_for(DETAIL_TYPE_ISSUED).validate(raw["detail"])


def test_sample_sqs_batch_parses_with_the_push_worker_model() -> None:
    records = [PushMessageRecord.model_validate(r) for r in load_event("push-message-sqs.json")["Records"]]

    assert records
    for record in records:
        assert int(record.attributes.ApproximateReceiveCount) >= 1
        assert record.body.certificate_id
        assert "-----BEGIN" not in record.model_dump_json()


def test_sample_stream_batch_parses_with_the_notifier_model() -> None:
    records = [DynamoDBStreamRecordModel.model_validate(r) for r in load_event("records-stream.json")["Records"]]

    history = [
        r
        for r in records
        if r.eventName == "INSERT"
        and isinstance(r.dynamodb.NewImage, dict)
        and r.dynamodb.NewImage["type"] == ITEM_HISTORY
    ]
    assert len(history) == 1
    final = record_from_item(history[0].dynamodb.NewImage)  # type: ignore[arg-type]
    assert final.status.is_final
    assert final.target_id and final.console_url


def test_every_sample_event_is_tested() -> None:
    samples = {p.name for p in EVENTS.glob("*.json")}

    assert samples == {
        "certificate-issued.json",
        "certificate-issued-policies.json",
        "push-message-sqs.json",
        "records-stream.json",
    }


@pytest.mark.parametrize("path", sorted(p.name for p in Path(SCHEMA_DIR).glob("*.json")))
def test_schemas_are_valid_json_schemas(path: str) -> None:
    Draft202012Validator.check_schema(json.loads((SCHEMA_DIR / path).read_text()))
