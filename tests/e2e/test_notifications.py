"""What the notifier emits: one "configure now" event per SUCCEEDED push, one summary per issuance."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from certpush.models.domain import TargetSpec
from certpush.models.events import (
    DETAIL_TYPE_PUSHED,
    DETAIL_TYPE_SUMMARY,
    NOTIFY_SOURCE,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)
from tests.e2e.conftest import emit_issued, eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def listener_queue(stack):
    """A queue subscribed to certpush's own events on the stack's bus, as a user's rule would be."""
    outputs = stack.provisioned.outputs
    sqs, events = boto3.client("sqs"), boto3.client("events")
    name = f"listener-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name=name, EventBusName=outputs["EventBusName"], EventPattern=json.dumps({"source": [NOTIFY_SOURCE]})
    )
    events.put_targets(Rule=name, EventBusName=outputs["EventBusName"], Targets=[{"Id": "q", "Arn": arn}])
    yield url
    events.remove_targets(Rule=name, EventBusName=outputs["EventBusName"], Ids=["q"])
    events.delete_rule(Name=name, EventBusName=outputs["EventBusName"])


def test_certificate_pushed_per_success_and_one_summary(cli, stack, imported, certificate_id, listener_queue):
    # an issuance with a region typo, from another producer (the CLI refuses it): the validator REJECTs it
    emit_issued(stack, certificate_id, [TargetSpec(provider="aws", service="elb",
                                                   regions=["us-east-1", "eu-west-1", "mars-north-1"])])  # fmt: skip
    sqs = boto3.client("sqs")
    received: list[dict] = []

    def summary_seen() -> bool:
        for message in sqs.receive_message(QueueUrl=listener_queue, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=listener_queue, ReceiptHandle=message["ReceiptHandle"])
        return any(e["detail-type"] == DETAIL_TYPE_SUMMARY for e in received)

    eventually(summary_seen, what="the issuance summary")
    mine = [e for e in received if e["detail"]["certificate_id"] == certificate_id]
    configure = [
        CertificatePushedDetail.model_validate(e["detail"]) for e in mine if e["detail-type"] == DETAIL_TYPE_PUSHED
    ]
    summaries = [
        IssuanceSummaryDetail.model_validate(e["detail"]) for e in mine if e["detail-type"] == DETAIL_TYPE_SUMMARY
    ]
    assert sorted(c.region for c in configure) == ["eu-west-1", "us-east-1"]
    assert all(c.console_url.startswith(f"https://{c.region}.console.aws.amazon.com/") for c in configure)
    assert len(summaries) == 1
    summary = summaries[0]
    assert (summary.total, summary.counts.succeeded, summary.counts.rejected, summary.outcome) == (3, 2, 1, "PARTIAL")
    assert "-----BEGIN" not in json.dumps(received)


def test_dead_lettered_pushes_are_listed_and_redriven(cli, stack, imported, certificate_id):
    """A push whose message reached the DLQ (its worker crashed every time) is not lost."""
    from datetime import UTC, datetime

    from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
    from certpush.models.domain import Issuance, PushRecord, PushStatus, TargetKey
    from certpush.models.messages import PushMessage

    outputs = stack.provisioned.outputs
    now = datetime.now(UTC)
    target = TargetKey(provider="aws", service="elb", region="ca-central-1")
    record = PushRecord(certificate_id=certificate_id, version=1, provider="aws", service="elb", region="ca-central-1",
                        status=PushStatus.PENDING, issuance_id=f"dlq-{certificate_id}", push_id=f"p-{certificate_id}",
                        created_at=now, updated_at=now)  # fmt: skip
    repository = DynamoDBRecordsRepository(outputs["RecordsTableName"])
    repository.put_issuance(Issuance(issuance_id=record.issuance_id, certificate_id=certificate_id, version=1,
                                     targets=[target], created_at=now))  # fmt: skip
    assert repository.start_push(record)
    message = PushMessage(push_id=record.push_id, issuance_id=record.issuance_id, certificate_id=certificate_id,
                          version=1, provider="aws", service="elb", region="ca-central-1")  # fmt: skip
    boto3.client("sqs").send_message(QueueUrl=outputs["PushDeadLetterQueueUrl"], MessageBody=message.model_dump_json())

    listed = cli("dead-letters", "list")
    assert f"{certificate_id} v1 aws:elb:ca-central-1" in listed.stdout
    redriven = cli("dead-letters", "redrive")
    assert f"redriven: {certificate_id} v1" in redriven.stdout

    def pushed() -> bool:
        found = repository.get(certificate_id, 1, target)
        return found is not None and found.status is PushStatus.SUCCEEDED

    eventually(pushed, what="the redriven push to succeed")
    assert "0 message(s)" in cli("dead-letters", "list").stderr
