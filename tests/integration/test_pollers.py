"""The embedded stack's pollers invoke a handler the way AWS does (each behaviour and its AWS page
is written next to the poller, in certpush_dev/local/pollers.py): never kinder than Lambda."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from certpush_dev.local.pollers import AsyncInvocationFailed, AsyncInvoker, Invoker, SchedulePoller, SqsPoller
from certpush_dev.local.provision import EventSource, FunctionSpec

from .conftest import REGION

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("aws")]


class Handler:
    """Raises for the first ``failures`` invocations, then returns what ``result`` makes of the event."""

    def __init__(self, failures: int = 0, result: Callable[[dict[str, Any]], Any] = lambda event: None) -> None:
        self.failures = failures
        self.result = result
        self.events: list[dict[str, Any]] = []
        self.times: list[float] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.times.append(time.monotonic())
        if len(self.events) <= self.failures:
            raise LookupError(f"failure {len(self.events)}")
        return self.result(event)


def _queue(name: str, **attributes: str) -> tuple[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _spec(config: dict[str, Any] | None = None) -> FunctionSpec:
    return FunctionSpec("TestFunction", "test-function", Path("."), "app.handler", 30, {}, [], config or {})


def _messages(url: str) -> list[dict[str, Any]]:
    found = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


@pytest.fixture
def started() -> Iterator[Callable[[Any], Any]]:
    pollers: list[Any] = []

    def start(poller: Any) -> Any:
        poller.start()
        pollers.append(poller)
        return poller

    yield start
    for poller in pollers:
        poller.stop()


def _async(handler: Handler, config: dict[str, Any], delays: tuple[float, ...] = (0, 0)) -> AsyncInvoker:
    return AsyncInvoker(boto3.client("sqs", region_name=REGION), Invoker(_spec(config), handler), delays)


# -- asynchronous invocation (Lambda developer guide, "Asynchronous invocation") ----------------------
def test_an_event_that_always_raises_runs_three_times_then_goes_to_the_on_failure_destination(started):
    url, arn = _queue("on-failure")
    handler = Handler(failures=99)
    invoker = started(_async(handler, {"DestinationConfig": {"OnFailure": {"Destination": arn}}}))

    future = invoker.submit({"id": "event-1", "detail": {"n": 1}})

    with pytest.raises(AsyncInvocationFailed) as failed:
        future.result(timeout=10)
    assert failed.value.condition == "RetriesExhausted"
    assert len(handler.events) == 3
    (record,) = _messages(url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"id": "event-1", "detail": {"n": 1}}
    assert record["responsePayload"] == {"errorType": "LookupError", "errorMessage": "failure 3"}
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_a_retry_that_succeeds_sends_nothing_anywhere(started):
    url, arn = _queue("on-failure")
    handler = Handler(failures=1, result=lambda event: {"ok": event["id"]})
    invoker = started(_async(handler, {"DestinationConfig": {"OnFailure": {"Destination": arn}}}))

    assert invoker.submit({"id": "event-2"}).result(timeout=10) == {"ok": "event-2"}
    assert len(handler.events) == 2
    assert _messages(url) == []


def test_maximum_retry_attempts_zero_runs_once(started):
    url, arn = _queue("on-failure")
    handler = Handler(failures=99)
    config = {"MaximumRetryAttempts": 0, "DestinationConfig": {"OnFailure": {"Destination": arn}}}
    invoker = started(_async(handler, config))

    with pytest.raises(AsyncInvocationFailed):
        invoker.submit({"id": "event-3"}).result(timeout=10)
    assert len(handler.events) == 1
    assert len(_messages(url)) == 1


def test_without_a_destination_the_event_is_dropped(started):
    handler = Handler(failures=99)
    invoker = started(_async(handler, {}))

    with pytest.raises(AsyncInvocationFailed):
        invoker.submit({"id": "event-4"}).result(timeout=10)
    assert len(handler.events) == 3
    assert boto3.client("sqs", region_name=REGION).list_queues().get("QueueUrls", []) == []


def test_retries_wait_at_least_their_backoff(started):
    handler = Handler(failures=2)
    invoker = started(_async(handler, {}, delays=(0.2, 0.4)))

    invoker.submit({"id": "event-5"}).result(timeout=10)

    first, second, third = handler.times
    assert second - first >= 0.2 and third - second >= 0.4


def test_an_event_older_than_its_maximum_age_is_not_retried(started):
    url, arn = _queue("on-failure")
    handler = Handler(failures=99)
    config = {"MaximumEventAgeInSeconds": 60, "DestinationConfig": {"OnFailure": {"Destination": arn}}}
    invoker = started(_async(handler, config, delays=(120, 120)))

    with pytest.raises(AsyncInvocationFailed) as failed:
        invoker.submit({"id": "event-6"}).result(timeout=10)
    assert failed.value.condition == "EventAgeExceeded"
    assert len(handler.events) == 1
    assert _messages(url)[0]["requestContext"]["condition"] == "EventAgeExceeded"


def test_a_schedule_event_is_invoked_asynchronously_as_a_scheduled_event(started):
    handler = Handler(failures=1, result=lambda event: event["detail-type"])
    invoker = started(_async(handler, {}))
    schedule = SchedulePoller(EventSource("schedule", {"Schedule": "rate(5 minutes)"}), invoker, "123456789012", REGION)

    assert schedule.fire().result(timeout=10) == "Scheduled Event"
    assert schedule.rate_seconds == 300
    assert handler.events[0]["source"] == "aws.events"
    assert len(handler.events) == 2  # a scheduled run that raised is retried like any asynchronous event


# -- SQS event source mapping (Lambda developer guide, "Using Lambda with Amazon SQS") ------------------
def _sqs_poller(url: str, arn: str, handler: Handler, partial: bool = True, **more: Any) -> SqsPoller:
    properties = {"BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"] if partial else [], **more}
    source = EventSource("sqs", properties, queue_url=url, queue_arn=arn)
    return SqsPoller(boto3.client("sqs", region_name=REGION), source, Invoker(_spec(), handler), REGION, 1)


def _wait_for(check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def test_only_the_reported_failures_come_back_and_move_to_the_dlq_after_max_receive_count(started):
    dlq_url, dlq_arn = _queue("dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = _queue("work", VisibilityTimeout="0", RedrivePolicy=redrive)
    sqs = boto3.client("sqs", region_name=REGION)
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def report_bad(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]
        }

    handler = Handler(result=report_bad)
    started(_sqs_poller(url, arn, handler))

    dead = _wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url).get("Messages"))
    assert [m["Body"] for m in dead] == ["bad"]
    bodies = [r["body"] for e in handler.events for r in e["Records"]]
    assert bodies.count("good") == 1 and bodies.count("bad") == 2
    receive_counts = [r["attributes"]["ApproximateReceiveCount"] for e in handler.events for r in e["Records"]]
    assert "2" in receive_counts


def test_a_batch_that_raises_returns_every_message(started):
    url, arn = _queue("work", VisibilityTimeout="0")
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    handler = Handler(failures=1)
    started(_sqs_poller(url, arn, handler))

    _wait_for(lambda: sum(len(e["Records"]) for e in handler.events) >= 6)

    bodies = sorted(r["body"] for e in handler.events for r in e["Records"])
    assert bodies == ["m0", "m0", "m1", "m1", "m2", "m2"]


@pytest.mark.parametrize("window", [0, 30])
def test_a_batching_window_gathers_what_arrives_after_the_first_message(started, window):
    """Lambda waits up to MaximumBatchingWindowInSeconds from the first message for a full batch; with 0
    it invokes with what one receive returned. The later messages are sent once the first is in flight
    (received by the poller), so only a window can put them in its batch."""
    url, arn = _queue("work")
    sqs = boto3.client("sqs", region_name=REGION)
    handler = Handler()
    started(_sqs_poller(url, arn, handler, BatchSize=3, MaximumBatchingWindowInSeconds=window))
    sqs.send_message(QueueUrl=url, MessageBody="first")

    def in_flight() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
        return attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1" or bool(handler.events)

    _wait_for(in_flight)
    for body in ("second", "third"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    _wait_for(lambda: sum(len(e["Records"]) for e in handler.events) == 3)

    first_batch = [r["body"] for r in handler.events[0]["Records"]]
    assert first_batch == (["first", "second", "third"] if window else ["first"])
