"""The three handlers, driven with events as Lambda delivers them (EventBridge, SQS batch, DynamoDB
stream batch) and their dependency injected, built from the fakes."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.types import TypeSerializer

from certpush.adapters.consumers import PushConsumer, StreamConsumer
from certpush.errors import AuthenticationFailedError, TransientPushError
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker, RetryLater
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, PushRecord, PushRequest, PushStatus, TargetKey
from certpush.models.items import current_item, history_item
from certpush.models.messages import PushMessage, PushMessageRecord
from certpush_cli.function_url import LocalLambdaContext
from tests.fakes import (
    FakeQueue,
    FixedClock,
    InMemoryCertificateStore,
    InMemoryRecordsRepository,
    RecordingPublisher,
    ScriptedTarget,
)
from tests.unit.conftest import CERTIFICATE_ID

pytestmark = [
    pytest.mark.unit,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:certpush-push"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/certpush-records/stream/2026-11-27T00:00:00.000"
US_EAST_1 = TargetKey(provider="aws", service="elb", region="us-east-1")


def issued_event(detail: dict[str, Any], event_id: str = "0c5a7a61-1b1f-4f8e-9d0e-6e1d2b3c4d5e") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Certificate Issued",
        "source": "certpush.certificates",
        "account": "123456789012",
        "time": "2026-11-27T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def sqs_record(message_id: str, body: str, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1795780800000",
            "SenderId": "AROAEXAMPLE:certpush-validator",
            "ApproximateFirstReceiveTimestamp": "1795780800100",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


_serializer = TypeSerializer()


def stream_record(event_name: str, item: dict[str, Any], sequence: str) -> dict[str, Any]:
    image = {key: _serializer.serialize(value) for key, value in item.items()}
    return {
        "eventID": f"event-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM_ARN,
        "dynamodb": {
            "ApproximateCreationDateTime": 1795780800.0,
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": sequence,
            "SizeBytes": 512,
            "StreamViewType": "NEW_IMAGE",
        },
    }


# -- validator --------------------------------------------------------------------------------------
def test_validator_handler_queues_the_targets_of_an_event(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    validator: Validator,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    app = load_app("validator")
    event = issued_event(
        {
            "certificate_id": CERTIFICATE_ID,
            "targets": [
                {"provider": "aws", "service": "elb", "regions": ["us-east-1", "mars-north-1"]},
            ],
        }
    )

    response = app.handler(event, lambda_context, validator=validator)

    assert response == {
        "status": "ACCEPTED",
        "issuance_id": event["id"],
        "queued": ["aws:elb:us-east-1"],
        "rejected": {"aws:elb:mars-north-1": "REGION_NOT_OFFERED"},
    }
    assert [m.target for m in queue.messages] == [US_EAST_1]


@pytest.mark.parametrize(
    "detail",
    [
        {},
        {"certificate_id": ""},
        {"certificate_id": "c", "version": 0},
        {"certificate_id": "c", "targets": [{"provider": "aws", "service": "elb", "regions": []}]},
        {"certificate_id": "c", "targets": "aws:elb=us-east-1"},
    ],
    ids=["no-certificate", "empty-certificate", "version-zero", "no-regions", "targets-not-a-list"],
)
def test_validator_handler_reports_a_malformed_event_without_raising(
    detail: dict[str, Any],
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    validator: Validator,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
) -> None:
    app = load_app("validator")

    response = app.handler(issued_event(detail), lambda_context, validator=validator)

    assert response["status"] == "MALFORMED"
    assert response["errors"]
    assert all(isinstance(e, str) and e for e in response["errors"])
    assert queue.messages == []
    assert records.current == {} and records.issuances == {}


def test_validator_handler_rejects_an_event_that_is_not_eventbridge(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, validator: Validator
) -> None:
    app = load_app("validator")

    response = app.handler({"certificate_id": CERTIFICATE_ID}, lambda_context, validator=validator)

    assert response["status"] == "MALFORMED"


# -- push worker ------------------------------------------------------------------------------------
@pytest.fixture
def messages(validator: Validator, queue: FakeQueue, hosted_certificate: CertificateVersion) -> list[PushMessage]:
    from certpush.models.events import CertificateIssuedDetail

    validator.validate(
        CertificateIssuedDetail.model_validate(
            {
                "certificate_id": CERTIFICATE_ID,
                "targets": [
                    {"provider": "huaweicloud", "service": "waf", "regions": ["ap-southeast-1"]},
                    {"provider": "aws", "service": "elb", "regions": ["us-east-1"]},
                ],
            }
        ),
        "event-1",
    )
    return list(queue.messages)


def test_push_worker_handler_reports_exactly_the_failed_messages(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    app = load_app("push_worker")
    waf_message, elb_message = messages
    aws_elb.errors.append(TransientPushError("Throttling", "rate exceeded"))
    event = {
        "Records": [
            sqs_record("m-ok", waf_message.model_dump_json()),
            sqs_record("m-transient", elb_message.model_dump_json()),
            sqs_record("m-not-json", "{not json"),
            sqs_record("m-not-a-push", json.dumps({"push_id": "p"})),
            sqs_record("m-duplicate", waf_message.model_dump_json(), receive_count=2),
        ]
    }

    # one after another: the duplicate comes after its push finished (at the same time it would wait
    # for the lease instead, and fail to come back later: test_a_push_held_by_a_live_claim_is_not_taken_twice)
    consumer = PushConsumer(worker, scheduler=queue, concurrency=1)
    response = app.handler(event, lambda_context, consumer=consumer)

    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": "m-transient"},
            {"itemIdentifier": "m-not-json"},
            {"itemIdentifier": "m-not-a-push"},
        ]
    }
    assert queue.delays == {"receipt-m-transient": 7}
    waf = records.get(CERTIFICATE_ID, 1, waf_message.target)
    elb = records.get(CERTIFICATE_ID, 1, elb_message.target)
    assert waf is not None and waf.status is PushStatus.SUCCEEDED
    assert elb is not None and elb.status is PushStatus.IN_PROGRESS and elb.reason == "Throttling"


def test_push_worker_handler_gives_up_at_the_receive_count_limit(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    app = load_app("push_worker")
    waf_message, elb_message = messages
    aws_elb.errors.append(TransientPushError("Throttling", "rate exceeded"))
    event = {
        "Records": [
            sqs_record("m-waf", waf_message.model_dump_json()),
            sqs_record("m-last-try", elb_message.model_dump_json(), receive_count=3),  # max_attempts is 3
        ]
    }

    response = app.handler(event, lambda_context, consumer=PushConsumer(worker, scheduler=queue))

    assert response == {"batchItemFailures": []}
    assert queue.delays == {}
    elb = records.get(CERTIFICATE_ID, 1, elb_message.target)
    assert elb is not None and elb.status is PushStatus.FAILED and elb.reason == "Throttling"


def test_push_worker_handler_reports_a_batch_that_only_waits_for_its_retry(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    """A retry is flow control: the invocation must not fail (Lambda would count an error and scale
    the function down) when every message of a batch waits for its backoff."""
    app = load_app("push_worker")
    aws_elb.errors.append(TransientPushError("Throttling", "rate exceeded"))
    event = {"Records": [sqs_record("m-only", messages[1].model_dump_json())]}

    response = app.handler(event, lambda_context, consumer=PushConsumer(worker, scheduler=queue))

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-only"}]}
    assert queue.delays == {"receipt-m-only": 7}


def test_push_worker_handler_sends_a_settling_push_back_for_the_rest_of_its_wait(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    clock: FixedClock,
    messages: list[PushMessage],
) -> None:
    """After an ambiguous error the message's next delivery (a duplicate already in flight) is a batch
    item failure whose visibility is the rest of the settle wait: the target is not called, no attempt
    counted."""
    app = load_app("push_worker")
    elb_message = messages[1]
    aws_elb.errors.append(TransientPushError("NETWORK", "read timeout", ambiguous=True))
    consumer = PushConsumer(worker, scheduler=queue, concurrency=1)
    first = app.handler(
        {"Records": [sqs_record("m-first", elb_message.model_dump_json())]}, lambda_context, consumer=consumer
    )
    assert first == {"batchItemFailures": [{"itemIdentifier": "m-first"}]}
    assert queue.delays == {"receipt-m-first": worker.retry.settle_seconds}

    clock.advance(seconds=10)
    twin = {"Records": [sqs_record("m-twin", elb_message.model_dump_json(), receive_count=2)]}
    response = app.handler(twin, lambda_context, consumer=consumer)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-twin"}]}
    assert queue.delays["receipt-m-twin"] == worker.retry.settle_seconds - 10
    assert len(aws_elb.calls) == 1
    record = records.get(CERTIFICATE_ID, 1, elb_message.target)
    assert record is not None and record.attempts == 1


class RecordingMetrics:
    def __init__(self) -> None:
        self.counts: dict[str, float] = {}

    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None:
        self.counts[name] = self.counts.get(name, 0) + value


def test_throttled_and_refused_pushes_are_counted(
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    huawei_waf: ScriptedTarget,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    """PushThrottled for each retry the target's flow control caused, PushAuthFailed for each push the
    target's refusal of the credentials ended."""
    waf_message, elb_message = messages
    aws_elb.errors.append(TransientPushError("APIGW.0308", "throttled", retry_after=60, throttled=True))
    huawei_waf.errors.append(AuthenticationFailedError("APIGW.0301", "refused"))
    metrics = RecordingMetrics()
    consumer = PushConsumer(worker, scheduler=queue, metrics=metrics, concurrency=1)
    for name, message in (("m-waf", waf_message), ("m-elb", elb_message)):
        record = PushMessageRecord.model_validate(sqs_record(name, message.model_dump_json()))
        with contextlib.suppress(RetryLater):
            consumer.consume(record, lambda_context)
    assert queue.delays == {"receipt-m-elb": 60}
    assert metrics.counts == {"PushFailed": 1, "PushAuthFailed": 1, "PushRetries": 1, "PushThrottled": 1}


def test_push_worker_reads_the_versions_of_a_batch_at_once(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    store: InMemoryCertificateStore,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    app = load_app("push_worker")
    event = {"Records": [sqs_record(f"m-{i}", m.model_dump_json()) for i, m in enumerate(messages)]}
    store.version_reads = 0

    response = app.handler(event, lambda_context, consumer=PushConsumer(worker, scheduler=queue))

    assert response == {"batchItemFailures": []}
    assert (store.batch_reads, store.version_reads) == (1, 0)


class FakeContext(LocalLambdaContext):
    """A Lambda context whose remaining time is whatever ``remaining_ms`` says at the moment."""

    def __init__(self, remaining_ms: Callable[[], int]) -> None:
        super().__init__(function_name="certpush-unit", timeout_seconds=60)
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms()


def test_push_worker_hands_back_what_it_has_no_time_to_push(
    load_app: Callable[[str], ModuleType],
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    huawei_waf: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    """A push that could be cut off by the timeout is not started: the message goes back at once,
    and its record counts no attempt."""
    app = load_app("push_worker")
    waf_message, elb_message = messages
    event = {"Records": [sqs_record("m-waf", waf_message.model_dump_json()),
                         sqs_record("m-elb", elb_message.model_dump_json())]}  # fmt: skip
    consumer = PushConsumer(worker, scheduler=queue, push_time_budget_ms=20_000, concurrency=1)

    # the first push takes the invocation from 59 s left to just under the budget of one push
    context = FakeContext(lambda: 19_999 if huawei_waf.calls else 59_000)

    response = app.handler(event, context, consumer=consumer)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-elb"}]}
    assert queue.delays == {"receipt-m-elb": 0}
    assert len(huawei_waf.calls) == 1 and aws_elb.calls == []
    elb = records.get(CERTIFICATE_ID, 1, elb_message.target)
    assert elb is not None and elb.status is PushStatus.PENDING and elb.attempts == 0


def test_push_worker_pushes_the_messages_of_a_batch_at_the_same_time(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    huawei_waf: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    messages: list[PushMessage],
) -> None:
    """Each push waits until the other one is under way too: run one after another, they could not."""
    app = load_app("push_worker")
    together = threading.Barrier(len(messages), timeout=10)

    def meeting(request: PushRequest) -> None:
        together.wait()

    aws_elb.during_upload = meeting
    huawei_waf.during_upload = meeting
    event = {"Records": [sqs_record(f"m-{i}", m.model_dump_json()) for i, m in enumerate(messages)]}

    response = app.handler(event, lambda_context, consumer=PushConsumer(worker, scheduler=queue, concurrency=2))

    assert response == {"batchItemFailures": []}
    finals = [records.get(CERTIFICATE_ID, 1, m.target) for m in messages]
    assert all(r is not None and r.status is PushStatus.SUCCEEDED for r in finals)


# -- notifier ---------------------------------------------------------------------------------------
@pytest.fixture
def succeeded(worker: PushWorker, messages: list[PushMessage]) -> list[PushRecord]:
    finals = [worker.process(m, receive_count=1) for m in messages]
    assert all(r is not None and r.status is PushStatus.SUCCEEDED for r in finals)
    return finals  # type: ignore[return-value]


def test_notifier_handler_acts_on_history_inserts_only(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    notifier: Notifier,
    publisher: RecordingPublisher,
    succeeded: list[PushRecord],
) -> None:
    app = load_app("notifier")
    waf, elb = succeeded
    event = {
        "Records": [
            stream_record("INSERT", current_item(waf), "100"),  # a current push item
            stream_record("MODIFY", history_item(waf), "101"),  # not an insert
            stream_record("INSERT", history_item(waf), "102"),
            stream_record("INSERT", history_item(elb), "103"),
        ]
    }

    response = app.handler(event, lambda_context, consumer=StreamConsumer(notifier))

    assert response == {"batchItemFailures": []}
    assert [e.push_id for e in publisher.pushed_events] == [waf.push_id, elb.push_id]
    assert publisher.pushed_events[0].target_id == waf.target_id
    [summary] = publisher.summaries
    assert summary.outcome == "SUCCEEDED"
    assert summary.total == 2


def test_notifier_handler_ignores_a_removal(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    notifier: Notifier,
    publisher: RecordingPublisher,
    succeeded: list[PushRecord],
) -> None:
    app = load_app("notifier")
    removal = stream_record("REMOVE", history_item(succeeded[0]), "200")
    removal["dynamodb"]["OldImage"] = removal["dynamodb"].pop("NewImage")
    removal["dynamodb"]["StreamViewType"] = "NEW_AND_OLD_IMAGES"
    good = stream_record("INSERT", history_item(succeeded[1]), "201")

    response = app.handler({"Records": [removal, good]}, lambda_context, consumer=StreamConsumer(notifier))

    assert response == {"batchItemFailures": []}
    assert [e.push_id for e in publisher.pushed_events] == [succeeded[1].push_id]


def test_notifier_handler_reports_a_history_item_it_cannot_read(
    load_app: Callable[[str], ModuleType],
    lambda_context: LocalLambdaContext,
    notifier: Notifier,
    publisher: RecordingPublisher,
    succeeded: list[PushRecord],
) -> None:
    app = load_app("notifier")
    broken = history_item(succeeded[0])
    del broken["status"]
    event = {
        "Records": [
            stream_record("INSERT", broken, "300"),
            stream_record("INSERT", history_item(succeeded[1]), "301"),
        ]
    }

    response = app.handler(event, lambda_context, consumer=StreamConsumer(notifier))

    assert response == {"batchItemFailures": [{"itemIdentifier": "300"}]}
    assert [e.push_id for e in publisher.pushed_events] == [succeeded[1].push_id]
