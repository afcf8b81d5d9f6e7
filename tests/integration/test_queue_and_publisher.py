"""The push queue (SQS) and the event publisher (EventBridge, SNS) on the queue, bus and topic of
template.yaml. Receives use WaitTimeSeconds=0: moto answers at once, nothing waits on a clock."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from certpush.adapters.eventbridge_sns import EventBridgePublisher
from certpush.adapters.sqs_queue import QueueSendError, SqsPushQueue
from certpush.models.domain import TargetOptions
from certpush.models.events import (
    DETAIL_TYPE_ISSUED,
    DETAIL_TYPE_PUSHED,
    DETAIL_TYPE_SUMMARY,
    EVENT_SOURCE,
    NOTIFY_SOURCE,
    CertificateIssuedDetail,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)
from certpush.models.messages import PushMessage
from certpush_cli.host.queue import SqliteDeadLetterQueue, SqlitePushQueue
from certpush_dev.local.provision import ProvisionedStack

from .conftest import REGION

pytestmark = pytest.mark.integration


def _messages(count: int) -> list[PushMessage]:
    return [
        PushMessage(
            push_id=str(uuid.uuid4()),
            issuance_id="iss-1",
            certificate_id="shop",
            version=1,
            provider="aws",
            service="elb",
            region=f"region-{i}",
            options=TargetOptions(attach=(f"listener-{i}",)),
        )
        for i in range(count)
    ]


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every visible message, deleted as it is read."""
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return received
        received.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )


def _sent_batches(sqs: Any) -> list[int]:
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["Entries"]))

    sqs.meta.events.register("provide-client-params.sqs.SendMessageBatch", record)
    return sizes


# -- SQS ---------------------------------------------------------------------------------------------
def test_sends_in_batches_of_ten_and_loses_none(clean_stack: ProvisionedStack, sqs: Any):
    url = clean_stack.outputs["PushQueueUrl"]
    messages = _messages(25)
    sizes = _sent_batches(sqs)

    SqsPushQueue(url, client=sqs).send(messages)

    assert sizes == [10, 10, 5]
    received = [PushMessage.model_validate_json(m["Body"]) for m in _drain(sqs, url)]
    assert sorted(received, key=lambda m: m.push_id) == sorted(messages, key=lambda m: m.push_id)


class _FlakySqs:
    """Moto's SQS, except that the first SendMessageBatch takes only its first entry and reports the
    others as failed on the service side (SenderFault false), as SQS may under load."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self.calls = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > 1:
            return dict(self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=Entries))
        response = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=Entries[:1])
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in Entries[1:]]
        return {"Successful": response["Successful"], "Failed": failed}


def test_entries_that_fail_are_sent_again(clean_stack: ProvisionedStack, sqs: Any):
    url = clean_stack.outputs["PushQueueUrl"]
    messages = _messages(4)
    flaky = _FlakySqs(sqs)

    SqsPushQueue(url, client=flaky).send(messages)

    assert flaky.calls == 2
    received = sorted(PushMessage.model_validate_json(m["Body"]).push_id for m in _drain(sqs, url))
    assert received == sorted(m.push_id for m in messages)


def test_an_entry_refused_as_the_sender_s_fault_raises(clean_stack: ProvisionedStack):
    class Refusing:
        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            return {"Successful": [], "Failed": [{"Id": Entries[0]["Id"], "SenderFault": True, "Message": "too big"}]}

    with pytest.raises(QueueSendError):
        SqsPushQueue(clean_stack.outputs["PushQueueUrl"], client=Refusing()).send(_messages(1))


class _Consumer:
    """What the push worker's side sees of a queue: receive (one receive each), and how many messages
    are hidden or dead-lettered. One per backend: SQS (moto) and the host's SQLite queue."""

    def __init__(self, queue: Any, receive: Any, hidden: Any, dead: Any) -> None:
        self.queue, self.receive, self.hidden, self.dead = queue, receive, hidden, dead


@pytest.fixture(params=["sqs", "sqlite"])
def consumer(request: pytest.FixtureRequest) -> _Consumer:
    if request.param == "sqlite":
        database = request.getfixturevalue("host_database")
        template = request.getfixturevalue("template")
        queue = SqlitePushQueue(
            database,
            visibility_timeout=int(template["Resources"]["PushQueue"]["Properties"]["VisibilityTimeout"]),
            max_receives=int(template["Parameters"]["PushMaxReceives"]["Default"]),
        )
        return _Consumer(
            queue,
            lambda: [(m.message_id, m.receipt) for m in queue.receive(1)],
            lambda: _sqlite_hidden(database),
            lambda: len(SqliteDeadLetterQueue(database).receive(10, 0)),
        )
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    sqs: Any = request.getfixturevalue("sqs")
    url, dlq = stack.outputs["PushQueueUrl"], stack.outputs["PushDeadLetterQueueUrl"]

    def receive() -> list[tuple[str, str]]:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
        return [(m["MessageId"], m["ReceiptHandle"]) for m in got]

    def hidden() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

    return _Consumer(SqsPushQueue(url, client=sqs), receive, hidden, lambda: len(_drain(sqs, dlq)))


def _sqlite_hidden(database: Any) -> int:
    import time

    (count,) = (
        database.connection()
        .execute("SELECT COUNT(*) FROM queue WHERE dead = 0 AND visible_at > ?", (time.time(),))
        .fetchone()
    )
    return int(count)


def test_retry_later_changes_the_visibility_of_one_message(consumer: _Consumer):
    consumer.queue.send(_messages(1))

    [(first_id, first_receipt)] = consumer.receive()
    # the queue's visibility timeout (360 s in the template) hides it now
    assert consumer.receive() == []

    consumer.queue.retry_later(first_receipt, 0)
    [(again_id, again_receipt)] = consumer.receive()
    assert again_id == first_id

    consumer.queue.retry_later(again_receipt, 10**6)  # clamped below SQS's 12 hours, not refused
    assert consumer.receive() == []
    assert consumer.hidden() == 1


def test_push_queue_sends_failures_to_the_dead_letter_queue(consumer: _Consumer, template: dict[str, Any]):
    """The redrive policy from the template: after maxReceiveCount receives the message moves on."""
    consumer.queue.send(_messages(1))
    max_receives = int(template["Parameters"]["PushMaxReceives"]["Default"])

    for _ in range(max_receives):
        [(_, receipt)] = consumer.receive()
        consumer.queue.retry_later(receipt, 0)

    assert consumer.receive() == []
    assert consumer.dead() == 1


# -- EventBridge and SNS -----------------------------------------------------------------------------
@pytest.fixture
def events_tap(clean_stack: ProvisionedStack, sqs: Any) -> str:
    """A queue subscribed by a rule to certpush's own events on the stack's bus."""
    events = boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName=f"{clean_stack.name}-tap-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = clean_stack.outputs["EventBusName"]
    events.put_rule(
        Name="tap-certpush-events",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [NOTIFY_SOURCE]}),
        State="ENABLED",
    )
    events.put_targets(Rule="tap-certpush-events", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return url


@pytest.fixture
def topic_tap(clean_stack: ProvisionedStack, sqs: Any) -> str:
    url = sqs.create_queue(QueueName=f"{clean_stack.name}-tap-topic")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=clean_stack.outputs["NotifyTopicArn"], Protocol="sqs", Endpoint=arn
    )
    return url


@pytest.fixture
def publisher(clean_stack: ProvisionedStack) -> EventBridgePublisher:
    return EventBridgePublisher(clean_stack.outputs["EventBusName"], topic_arn=clean_stack.outputs["NotifyTopicArn"])


def _certificate_pushed() -> CertificatePushedDetail:
    return CertificatePushedDetail(
        certificate_id="shop",
        version=2,
        provider="aws",
        service="elb",
        region="eu-west-1",
        target_id="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        console_url="https://eu-west-1.console.aws.amazon.com/acm/home?region=eu-west-1#/certificates/abc",
        issuance_id="iss-1",
        push_id="push-1",
        pushed_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    )


def test_certificate_pushed_and_summary_events_reach_a_rule_on_the_bus(
    publisher: EventBridgePublisher, events_tap: str, sqs: Any
):
    pushed = _certificate_pushed()
    summary = IssuanceSummaryDetail.from_outcomes(
        "iss-1", "shop", 2, {"aws:elb:eu-west-1": "SUCCEEDED", "huaweicloud:waf:cn-north-4": "FAILED"}
    )

    publisher.certificate_pushed(pushed)
    publisher.issuance_summary(summary)

    events = {body["detail-type"]: body for body in (json.loads(m["Body"]) for m in _drain(sqs, events_tap))}
    assert set(events) == {DETAIL_TYPE_PUSHED, DETAIL_TYPE_SUMMARY}
    assert {e["source"] for e in events.values()} == {NOTIFY_SOURCE}
    assert CertificatePushedDetail.model_validate(events[DETAIL_TYPE_PUSHED]["detail"]) == pushed
    received_summary = IssuanceSummaryDetail.model_validate(events[DETAIL_TYPE_SUMMARY]["detail"])
    assert received_summary == summary
    assert received_summary.outcome == "PARTIAL"


def test_certificate_issued_reaches_the_validator_rule_of_the_template(
    clean_stack: ProvisionedStack, publisher: EventBridgePublisher, sqs: Any
):
    (validator,) = [f for f in clean_stack.functions if f.logical_id == "ValidatorFunction"]
    (source,) = validator.sources
    detail = CertificateIssuedDetail(certificate_id="shop", version=2)

    event_id = publisher.certificate_issued(detail)
    publisher.certificate_pushed(_certificate_pushed())  # not for the validator

    bodies = [json.loads(m["Body"]) for m in _drain(sqs, source.queue_url)]
    assert [(b["source"], b["detail-type"], b["id"]) for b in bodies] == [(EVENT_SOURCE, DETAIL_TYPE_ISSUED, event_id)]
    assert CertificateIssuedDetail.model_validate(bodies[0]["detail"]) == detail


def test_a_readable_copy_goes_to_the_topic(publisher: EventBridgePublisher, topic_tap: str, sqs: Any):
    publisher.certificate_pushed(_certificate_pushed())

    (notification,) = [json.loads(m["Body"]) for m in _drain(sqs, topic_tap)]
    assert notification["Subject"] == "certpush: shop v2 pushed to aws ELB eu-west-1"
    assert _certificate_pushed().console_url in notification["Message"]
    assert notification["MessageAttributes"]["kind"]["Value"] == "pushed"
