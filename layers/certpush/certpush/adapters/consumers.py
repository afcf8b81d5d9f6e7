"""Record handlers for the batch processors: the SQS push consumer and the stream consumer.

They adapt one parsed record to one domain call. The push consumer also
- reads what the whole batch needs before its pushes run at the same time (``prepare``),
- sends a message back for later while another invocation holds its push (the records table's
  lease: two deliveries of one message never push at once), and for the rest of the settle wait
  after an ambiguous error (the record's "not before": no delivery retries before it, no attempt counted),
- schedules the backoff of a transient failure by changing the message's visibility timeout, and
- starts a push only while the invocation has time left for its worst case: the rest of the batch
  goes back to the queue untouched (a batch item failure, visible again at once, no attempt counted),
  so a push is never cut off by the function's timeout halfway."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from certpush.errors import (
    AuthenticationFailedError,
    PushInProgressError,
    PushSettlingError,
    TransientDependencyError,
    TransientPushError,
)
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker, RetryLater
from certpush.models.domain import PushStatus
from certpush.models.items import ITEM_HISTORY, record_from_item
from certpush.models.messages import PushMessage, PushMessageRecord
from certpush.ports import MetricsSink, RetryScheduler

logger = Logger(child=True)

IN_PROGRESS_RETRY_SECONDS = 5


class NoTimeLeft(Exception):
    """Not started: the invocation could not finish this push before its timeout."""

    def __init__(self, remaining_ms: int, needed_ms: int) -> None:
        super().__init__(f"{remaining_ms} ms left, a push may need {needed_ms} ms: handed back unprocessed")


class PushConsumer:
    record_model = PushMessageRecord

    def __init__(
        self,
        worker: PushWorker,
        scheduler: RetryScheduler,
        metrics: MetricsSink | None = None,
        push_time_budget_ms: int = 30_000,
        concurrency: int = 10,
    ) -> None:
        self._worker = worker
        self._scheduler = scheduler
        self._metrics = metrics
        self._metrics_lock = threading.Lock()
        self._budget_ms = push_time_budget_ms
        self.concurrency = concurrency

    def prepare(self, records: Sequence[dict[str, Any]]) -> None:
        """Batch reads for the messages of an SQS event (a malformed one is left to ``consume``)."""
        messages = []
        for record in records:
            try:
                messages.append(PushMessage.model_validate_json(record.get("body", "")))
            except ValidationError:
                continue
        try:
            self._worker.prepare(messages)
        except Exception as exc:  # an optimisation only: each push then reads what it needs itself
            logger.warning("batch read failed; the pushes read one by one", extra={"error": type(exc).__name__})

    def consume(self, record: PushMessageRecord, lambda_context: LambdaContext | None = None) -> None:
        if lambda_context is not None:
            remaining = lambda_context.get_remaining_time_in_millis()
            if remaining < self._budget_ms:
                self._scheduler.retry_later(record.receiptHandle, 0)
                self._count("PushesHandedBack")
                raise NoTimeLeft(remaining, self._budget_ms)
        message = record.body
        receive_count = int(record.attributes.ApproximateReceiveCount)
        try:
            final = self._worker.process(message, receive_count)
        except RetryLater as retry:
            self._scheduler.retry_later(record.receiptHandle, retry.delay_seconds)
            self._count("PushRetries")
            if isinstance(retry.cause, TransientPushError) and retry.cause.throttled:
                self._count("PushThrottled")  # the target's flow control: the retry waits its Retry-After
            raise
        except PushSettlingError as settling:
            # an earlier attempt's request may still be carried out: back when the wait ends, to look for it
            logger.info(
                "push settling after an ambiguous error, message sent back",
                extra={"push_id": settling.push_id, "seconds_left": settling.seconds_left},
            )
            self._scheduler.retry_later(record.receiptHandle, settling.seconds_left)
            raise
        except PushInProgressError:
            # the same push is running in another invocation: come back when it is done
            self._scheduler.retry_later(record.receiptHandle, IN_PROGRESS_RETRY_SECONDS)
            raise
        except TransientDependencyError:
            # a table, secret or queue failed after the SDK's own retries: back off like a push error
            self._scheduler.retry_later(record.receiptHandle, self._worker.retry.delay(receive_count))
            self._count("PushRetries")
            raise
        if final is not None:
            # SUPERSEDED is no failure (a newer version is in the target); ATTACH_FAILED is one
            metric = {PushStatus.SUCCEEDED: "PushSucceeded", PushStatus.SUPERSEDED: "PushSuperseded"}
            self._count(metric.get(final.status, "PushFailed"))
            if final.reason == AuthenticationFailedError.CODE:
                self._count("PushAuthFailed")  # the target refused the credentials: rotate or fix them

    def _count(self, name: str) -> None:
        if self._metrics is not None:
            with self._metrics_lock:  # records of a batch run in threads; the metric set is a dict
                self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


class StreamConsumer:
    """Reacts to history items (one per final outcome) as they are inserted."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    def batch(self) -> AbstractContextManager[None]:
        """Around a stream batch: its outcomes are written once per issuance and its events go out
        together when it ends."""
        return self._notifier.batch()

    def consume(self, record: DynamoDBStreamRecordModel) -> None:
        image = record.dynamodb.NewImage
        if record.eventName != "INSERT" or not isinstance(image, dict) or image.get("type") != ITEM_HISTORY:
            return
        self._notifier.on_final(record_from_item(image))
