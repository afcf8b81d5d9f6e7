"""In-process stand-ins for the ways Lambda invokes a function. Each mirrors what AWS documents,
never kinder (the page is named next to each class):

- ``SqsPoller`` (Lambda developer guide, "Using Lambda with Amazon SQS"): ReceiveMessage in
  batches (BatchSize), gathering for up to ``MaximumBatchingWindowInSeconds`` from a first message
  until the batch is full ("Batching behavior"), as many batches in flight as the mapping's
  ``ScalingConfig.MaximumConcurrency`` allows (one thread each, as Lambda runs that many concurrent
  invocations); a batch whose invocation raises returns every message after its visibility timeout;
  with ReportBatchItemFailures only the listed ones return; every return is a receive and the queue's
  redrive policy moves a message to the DLQ after maxReceiveCount receives (SQS does that itself, here moto does).
- ``StreamPoller`` (Lambda developer guide, "Using Lambda with DynamoDB"): one thread per shard,
  records in order, FilterCriteria applied (with moto's EventBridge pattern matcher, the same
  pattern language), partial batch failure resumes from the first failed sequence number,
  MaximumRetryAttempts then the OnFailure destination gets the batch's *metadata*, not its records.
- ``AsyncInvoker`` (Lambda developer guide, "Asynchronous invocation"): how Lambda runs an event
  that EventBridge (a rule or a schedule) handed to it. If the function raises, Lambda retries it
  twice (MaximumRetryAttempts of EventInvokeConfig, 0-2), about one and two minutes later
  (``retry_delays``: zero in tests), drops events older than MaximumEventAgeInSeconds, and then
  sends an invocation record to the OnFailure destination, or drops the event when there is none.
- ``EventBridgeTapPoller``: EventBridge delivers each matching event to Lambda's asynchronous
  queue. The rule target's RetryPolicy and DeadLetterConfig cover that *delivery* only (EventBridge
  user guide, "Event retry policy and using dead-letter queues"); a function error never reaches
  the rule's DLQ. Delivery here always succeeds (Lambda accepts an asynchronous invocation unless
  the function is missing or throttled), so the rule's DLQ stays empty, as it does on AWS.
- ``SchedulePoller``: a ``Schedule`` event is an EventBridge rule with a schedule expression, so
  its event is invoked asynchronously too. ``fire()`` runs it on demand (tests); ``start()`` runs
  it on its rate when the embedded stack is asked to.
"""

from __future__ import annotations

import hashlib
import heapq
import importlib.util
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Metrics

from certpush_cli.function_url import LocalLambdaContext
from certpush_dev.local.aws_hooks import InvocationScope
from certpush_dev.local.provision import EventSource, FunctionSpec

log = logging.getLogger("certpush_dev.local")

Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(spec: FunctionSpec) -> Handler:
    """Imports ``{CodeUri}/{module}.py`` afresh under a name of its own, as a new Lambda container
    would: nothing cached by an earlier stack in this process (clients, settings) carries over."""
    module_name, function_name = spec.handler.rsplit(".", 1)
    path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
    unique = f"certpush_local_{spec.logical_id}_{module_name}_{uuid.uuid4().hex[:8]}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    module_spec.loader.exec_module(module)
    handler = getattr(module, function_name)
    metrics = [value for value in vars(module).values() if isinstance(value, Metrics)]
    if not metrics:
        return handler

    def handler_clearing_metrics(event: dict[str, Any], context: Any) -> Any:
        """Metrics are disabled locally, but Powertools still keeps them and prints every 100th value
        to stdout (into whatever the CLI is capturing at that moment): drop them after each run, as
        a flush on Lambda would."""
        try:
            return handler(event, context)
        finally:
            for metric in metrics:
                metric.clear_metrics()

    return handler_clearing_metrics


class Invoker:
    """Calls a handler like Lambda: a fresh context per invocation, errors logged, never raised."""

    def __init__(self, spec: FunctionSpec, handler: Handler) -> None:
        self.spec = spec
        self._handler = handler
        self.invocations = 0
        self.active = 0  # invocations running now (a test waits for 0 before it changes a fault)
        self.errors = 0
        self.billed_seconds = 0.0  # the sum of the invocations' durations, as Lambda bills them
        # another way to run an invocation (the bench runs each in a process of its own to measure
        # its memory); it returns what __call__ does
        self.runner: Callable[[dict[str, Any]], tuple[bool, Any]] | None = None
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> tuple[bool, Any]:
        """(True, the handler's result) or (False, the error as Lambda reports it)."""
        context = LocalLambdaContext(self.spec.name, self.spec.timeout)
        with self._lock:
            self.invocations += 1
            self.active += 1
        started = time.monotonic()
        try:
            if self.runner is not None:
                ok, result = self.runner(event)
                if not ok:
                    with self._lock:
                        self.errors += 1
                return ok, result
            with InvocationScope(self.spec.logical_id):
                return True, self._handler(event, context)
        except Exception as exc:
            with self._lock:
                self.errors += 1
            log.exception("%s failed", self.spec.name)
            return False, {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        finally:
            with self._lock:
                self.active -= 1
                self.billed_seconds += time.monotonic() - started


class _Poller:
    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _spawn(self, target: Callable[[], None], count: int = 1) -> None:
        for index in range(count):
            thread = threading.Thread(target=self._guard(target), name=f"{self.name}-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    target()
                except Exception:  # the emulator must survive anything the emulated service says
                    log.exception("poller %s", self.name)
                    self._stop.wait(0.5)

        return run

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def _sqs_record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
            ),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


# Lambda starts an SQS event source with five concurrent pollers and scales up from there; a
# ScalingConfig caps the concurrent invocations (2..1000).
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
DEFAULT_SQS_CONCURRENCY = 5


def sqs_concurrency(properties: dict[str, Any]) -> int:
    """Concurrent invocations of an SQS event source mapping, as the template configures them."""
    maximum = properties.get("ScalingConfig", {}).get("MaximumConcurrency")
    return int(maximum) if maximum is not None else DEFAULT_SQS_CONCURRENCY


class SqsPoller(_Poller):
    def __init__(
        self,
        sqs: Any,
        source: EventSource,
        invoke: Invoker,
        region: str,
        concurrency: int | None = None,
        batching_window: bool = True,
    ) -> None:
        """``batching_window=False``: invoke with what one ReceiveMessage returned, as a mapping whose
        ``MaximumBatchingWindowInSeconds`` is 0 does (the e2e tier: a window would add its length to every
        push it waits for)."""
        super().__init__(f"sqs-{invoke.spec.logical_id}")
        self._sqs, self._source, self._invoke, self._region = sqs, source, invoke, region
        self._batch = int(source.properties.get("BatchSize", 10))
        self._window = float(source.properties.get("MaximumBatchingWindowInSeconds", 0)) if batching_window else 0.0
        self._partial = "ReportBatchItemFailures" in source.properties.get("FunctionResponseTypes", [])
        self.concurrency = concurrency or sqs_concurrency(source.properties)
        self.duplicate_deliveries = False
        self.receives = 0  # ReceiveMessage calls that returned (tests wait on it after changing the queue)
        self._receives_lock = threading.Lock()

    def start(self) -> None:
        self._spawn(self._poll_once, self.concurrency)

    def _poll_once(self) -> None:
        response = self._sqs.receive_message(
            QueueUrl=self._source.queue_url,
            MaxNumberOfMessages=min(self._batch, 10),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        )
        with self._receives_lock:
            self.receives += 1
        messages = response.get("Messages", [])
        if not messages:
            return
        messages += self._gather(self._batch - len(messages))
        arn = self._source.queue_arn or ""
        event = {"Records": [_sqs_record(m, arn, self._region) for m in messages]}
        if self.duplicate_deliveries:
            # SQS delivers at least once: here every message also goes to a second, concurrent batch
            twin = threading.Thread(target=self._deliver, args=(json.loads(json.dumps(event)), messages))
            twin.start()
            self._deliver(event, messages)
            twin.join()
            return
        self._deliver(event, messages)

    def _gather(self, wanted: int) -> list[dict[str, Any]]:
        """More messages for the batch until it is full or the batching window closes (Lambda, "Batching
        behavior": the window starts with the first record; a batch invokes at the first of window, batch
        size or payload size)."""
        gathered: list[dict[str, Any]] = []
        deadline = time.monotonic() + self._window
        while len(gathered) < wanted and (left := deadline - time.monotonic()) > 0 and not self._stop.is_set():
            more = self._sqs.receive_message(
                QueueUrl=self._source.queue_url,
                MaxNumberOfMessages=min(wanted - len(gathered), 10),
                WaitTimeSeconds=min(int(left), 20),  # long polling for whole seconds, then short polls
                AttributeNames=["All"],
            ).get("Messages", [])
            gathered += more
            if not more and left < 1:
                self._stop.wait(min(left, 0.05))
        return gathered

    def _deliver(self, event: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        ok, result = self._invoke(event)
        if not ok:
            return  # the whole batch comes back after the visibility timeout
        failed: set[str] = set()
        if self._partial and isinstance(result, dict):
            failed = {str(f["itemIdentifier"]) for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
            ]
            self._sqs.delete_message_batch(QueueUrl=self._source.queue_url, Entries=entries)


# Lambda developer guide, "Asynchronous invocation": retries come about 1 and 2 minutes apart
AWS_ASYNC_RETRY_DELAYS = (60.0, 120.0)


class AsyncInvoker(_Poller):
    """Lambda's own queue for asynchronous invocations of one function, with its retries and its
    EventInvokeConfig (MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig.OnFailure)."""

    def __init__(
        self,
        sqs: Any,
        invoke: Invoker,
        retry_delays: Sequence[float] = AWS_ASYNC_RETRY_DELAYS,
        concurrency: int = 2,
    ) -> None:
        super().__init__(f"async-{invoke.spec.logical_id}")
        config = invoke.spec.event_invoke_config
        self._sqs, self._invoke = sqs, invoke
        self._max_retries = min(2, int(config.get("MaximumRetryAttempts", 2)))
        self._max_age = float(config.get("MaximumEventAgeInSeconds", 21600))
        self._on_failure = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        self._delays = list(retry_delays)
        self._concurrency = concurrency
        self._due: list[tuple[float, int, _AsyncEvent]] = []
        self._order = 0
        self._ready = threading.Condition()

    def start(self) -> None:
        self._spawn(self._run_once, self._concurrency)

    def submit(self, event: dict[str, Any]) -> Future[Any]:
        """Accepts an event (InvocationType Event); the future ends with the last attempt's outcome."""
        pending = _AsyncEvent(event=event, accepted=time.monotonic(), request_id=str(uuid.uuid4()))
        self._schedule(pending, 0.0)
        return pending.future

    def _schedule(self, pending: _AsyncEvent, delay: float) -> None:
        with self._ready:
            self._order += 1
            heapq.heappush(self._due, (time.monotonic() + delay, self._order, pending))
            self._ready.notify()

    def _run_once(self) -> None:
        with self._ready:
            while not self._due or self._due[0][0] > time.monotonic():
                if self._stop.is_set():
                    return
                wait = 0.2 if not self._due else min(0.2, self._due[0][0] - time.monotonic())
                self._ready.wait(max(0.0, wait))
            _, _, pending = heapq.heappop(self._due)
        pending.attempts += 1
        ok, result = self._invoke(pending.event)
        if ok:
            pending.future.set_result(result)
            return
        age = time.monotonic() - pending.accepted
        if pending.attempts <= self._max_retries:
            delay = self._delays[min(pending.attempts, len(self._delays)) - 1] if self._delays else 0.0
            if age + delay <= self._max_age:
                self._schedule(pending, delay)
                return
            condition = "EventAgeExceeded"
        else:
            condition = "RetriesExhausted"
        self._send_to_failure_destination(pending, condition, result)
        pending.future.set_exception(AsyncInvocationFailed(condition, result))

    def _send_to_failure_destination(self, pending: _AsyncEvent, condition: str, error: Any) -> None:
        """The invocation record Lambda sends to an OnFailure destination (the event included)."""
        if not self._on_failure:
            log.error("%s: event dropped after %d attempts (%s)", self.name, pending.attempts, condition)
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": pending.request_id,
                "functionArn": f"arn:aws:lambda:local:000000000000:function:{self._invoke.spec.name}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": pending.attempts,
            },
            "requestPayload": pending.event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": error,
        }
        url = self._sqs.get_queue_url(QueueName=str(self._on_failure).rsplit(":", 1)[-1])["QueueUrl"]
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record, default=str))


class AsyncInvocationFailed(Exception):
    def __init__(self, condition: str, error: Any) -> None:
        super().__init__(f"{condition}: {error}")
        self.condition = condition
        self.error = error


@dataclass(eq=False)
class _AsyncEvent:
    event: dict[str, Any]
    accepted: float
    request_id: str
    attempts: int = 0
    future: Future[Any] = field(default_factory=Future)

    def __lt__(self, other: _AsyncEvent) -> bool:  # heap ties are broken by order before this
        return False


class EventBridgeTapPoller(_Poller):
    """EventBridge rule -> the function's asynchronous queue (see the module's docstring)."""

    def __init__(self, sqs: Any, source: EventSource, invoker: AsyncInvoker, account: str) -> None:
        super().__init__(f"events-{source.queue_url}")
        self._sqs, self._source, self._async, self._account = sqs, source, invoker, account

    def start(self) -> None:
        self._spawn(self._poll_once, 1)

    def _poll_once(self) -> None:
        response = self._sqs.receive_message(QueueUrl=self._source.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            event = json.loads(message["Body"])
            event.setdefault("account", self._account)  # moto's SQS target leaves it out; EventBridge sends it
            self._async.submit(event)  # delivered: Lambda accepted the asynchronous invocation
            self._sqs.delete_message(QueueUrl=self._source.queue_url, ReceiptHandle=message["ReceiptHandle"])


class SchedulePoller(_Poller):
    """A ``Schedule`` event source: EventBridge's "Scheduled Event", invoked asynchronously."""

    def __init__(self, source: EventSource, invoker: AsyncInvoker, account: str, region: str) -> None:
        super().__init__(f"schedule-{invoker.name}")
        self._source, self._async, self._account, self._region = source, invoker, account, region
        self.rate_seconds = _rate_seconds(str(source.properties.get("Schedule", "")))

    def fire(self) -> Future[Any]:
        return self._async.submit(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": self._account,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self._region,
                "resources": [],
                "detail": {},
            }
        )

    def start(self) -> None:
        if self.rate_seconds:
            self._spawn(self._tick)

    def _tick(self) -> None:
        if not self._stop.wait(self.rate_seconds):
            self.fire()


def _rate_seconds(expression: str) -> float | None:
    """``rate(5 minutes)`` -> 300; cron expressions are not run on their own (``fire()`` them)."""
    if not expression.startswith("rate(") or not expression.endswith(")"):
        return None
    amount, unit = expression[5:-1].split()
    return int(amount) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]


class StreamPoller(_Poller):
    def __init__(self, streams: Any, sqs: Any, source: EventSource, invoke: Invoker, region: str) -> None:
        super().__init__(f"stream-{invoke.spec.logical_id}")
        from moto.events.models import EventPattern  # the emulator's own pattern matcher

        props = source.properties
        self._streams, self._sqs, self._invoke, self._region = streams, sqs, invoke, region
        self._arn = str(props["Stream"])
        self._batch = int(props.get("BatchSize", 100))
        self._partial = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self._max_retries = int(props.get("MaximumRetryAttempts", -1))
        self._on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        filters = props.get("FilterCriteria", {}).get("Filters", [])
        self._patterns = [EventPattern.load(f["Pattern"]) for f in filters]
        self._start = props.get("StartingPosition", "TRIM_HORIZON")
        self._iterators: dict[str, str | None] = {}

    def start(self) -> None:
        self._spawn(self._poll_once)

    def _shards(self) -> None:
        description = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard["ShardId"], ShardIteratorType=self._start
                )["ShardIterator"]

    def _poll_once(self) -> None:
        self._shards()
        got_any = False
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=self._batch)
            records = response.get("Records", [])
            next_iterator = response.get("NextShardIterator")
            if records:
                got_any = True
                next_iterator = self._deliver(shard_id, records) or next_iterator
            self._iterators[shard_id] = next_iterator
        if not got_any:
            self._stop.wait(0.2)

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> str | None:
        """Returns an iterator to resume from when a record is to be retried."""
        for record in records:  # as Lambda delivers them: ARN included, times as epoch seconds
            record["eventSourceARN"] = self._arn
            record.setdefault("awsRegion", self._region)
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if hasattr(created, "timestamp"):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
        wanted = [r for r in records if self._matches(r)]
        attempts = 0
        while wanted:
            ok, result = self._invoke({"Records": wanted})
            failed_from: str | None = None
            if not ok:
                failed_from = wanted[0]["dynamodb"]["SequenceNumber"]
            elif self._partial and isinstance(result, dict) and result.get("batchItemFailures"):
                failed_from = str(result["batchItemFailures"][0]["itemIdentifier"])
            if failed_from is None:
                return None
            index = next(i for i, r in enumerate(wanted) if r["dynamodb"]["SequenceNumber"] == failed_from)
            wanted = wanted[index:]
            attempts += 1
            if 0 <= self._max_retries < attempts:
                self._send_to_failure_destination(shard_id, wanted)
                return None
            if self._stop.wait(min(0.1 * attempts, 2.0)):
                return None
        return None

    def _matches(self, record: dict[str, Any]) -> bool:
        """FilterCriteria: no filter lets everything through; otherwise any pattern may match."""
        return not self._patterns or any(p.matches_event(record) for p in self._patterns)  # type: ignore[arg-type]

    def _send_to_failure_destination(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        log.error("%s: %d stream records sent to the on-failure destination", self.name, len(records))
        if not self._on_failure:
            return
        url = self._sqs.get_queue_url(QueueName=str(self._on_failure).rsplit(":", 1)[-1])["QueueUrl"]
        info = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self._invoke.spec.name},
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "streamArn": self._arn,
                "batchSize": len(records),
            },
        }
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(info))
