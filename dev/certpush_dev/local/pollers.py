"""In-process stand-ins for Lambda's event source mappings.

- ``SqsPoller``: ReceiveMessage in batches (BatchSize), as many batches in flight as the mapping's
  ``ScalingConfig.MaximumConcurrency`` allows (one thread each, as Lambda runs that many concurrent
  invocations), ReportBatchItemFailures honoured (only successes are
  deleted; failures come back after their visibility timeout; the queue's redrive policy moves a
  message to the DLQ after maxReceiveCount receives, as in SQS).
- ``StreamPoller``: one thread per shard, records in order, FilterCriteria applied (with moto's
  EventBridge pattern matcher, the same pattern language), partial batch failure resumes from the
  first failed sequence number, MaximumRetryAttempts then the OnFailure destination.
- ``EventBridgeTapPoller``: one event per invocation, as EventBridge invokes a function.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from certpush_dev.local.provision import EventSource, FunctionSpec

log = logging.getLogger("certpush_dev.local")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalLambdaContext:
    function_name: str
    timeout_seconds: int
    aws_request_id: str = ""
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


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
    return getattr(module, function_name)


class Invoker:
    """Calls a handler like Lambda: a fresh context per invocation, errors logged, never raised."""

    def __init__(self, spec: FunctionSpec, handler: Handler) -> None:
        self.spec = spec
        self._handler = handler
        self.invocations = 0
        self.errors = 0
        self.billed_seconds = 0.0  # the sum of the invocations' durations, as Lambda bills them
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> tuple[bool, Any]:
        context = LocalLambdaContext(self.spec.name, self.spec.timeout)
        with self._lock:
            self.invocations += 1
        started = time.monotonic()
        try:
            return True, self._handler(event, context)
        except Exception:
            with self._lock:
                self.errors += 1
            log.exception("%s failed", self.spec.name)
            return False, None
        finally:
            with self._lock:
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
        self, sqs: Any, source: EventSource, invoke: Invoker, region: str, concurrency: int | None = None
    ) -> None:
        super().__init__(f"sqs-{invoke.spec.logical_id}")
        self._sqs, self._source, self._invoke, self._region = sqs, source, invoke, region
        self._batch = int(source.properties.get("BatchSize", 10))
        self._partial = "ReportBatchItemFailures" in source.properties.get("FunctionResponseTypes", [])
        self.concurrency = concurrency or sqs_concurrency(source.properties)

    def start(self) -> None:
        self._spawn(self._poll_once, self.concurrency)

    def _poll_once(self) -> None:
        response = self._sqs.receive_message(
            QueueUrl=self._source.queue_url,
            MaxNumberOfMessages=min(self._batch, 10),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return
        arn = self._source.queue_arn or ""
        event = {"Records": [_sqs_record(m, arn, self._region) for m in messages]}
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


class EventBridgeTapPoller(_Poller):
    """EventBridge -> function: one event per invocation; a failed invocation is retried (the tap
    queue's redrive policy stands for the rule target's RetryPolicy and DeadLetterConfig)."""

    def __init__(self, sqs: Any, source: EventSource, invoke: Invoker, account: str) -> None:
        super().__init__(f"events-{invoke.spec.logical_id}")
        self._sqs, self._source, self._invoke, self._account = sqs, source, invoke, account

    def start(self) -> None:
        self._spawn(self._poll_once, 2)

    def _poll_once(self) -> None:
        response = self._sqs.receive_message(QueueUrl=self._source.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            event = json.loads(message["Body"])
            event.setdefault("account", self._account)  # moto's SQS target leaves it out; EventBridge sends it
            ok, _ = self._invoke(event)
            if ok:
                self._sqs.delete_message(QueueUrl=self._source.queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                self._sqs.change_message_visibility(
                    QueueUrl=self._source.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=1
                )


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
