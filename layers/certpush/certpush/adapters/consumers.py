"""Record handlers for the batch processors: the SQS push consumer and the stream consumer.

They adapt one parsed record to one domain call. The push consumer also
- runs each push once per ``push_id`` with Powertools idempotency (two deliveries of one message
  in flight at once: the second waits and retries instead of pushing a second time), and
- schedules the backoff of a transient failure by changing the message's visibility timeout."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.errors import TransientDependencyError
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker, RetryLater
from certpush.models.domain import PushStatus
from certpush.models.items import ITEM_HISTORY, record_from_item
from certpush.models.messages import PushMessage, PushMessageRecord
from certpush.ports import MetricsSink, RetryScheduler

logger = Logger(child=True)

IN_PROGRESS_RETRY_SECONDS = 5


class PushConsumer:
    record_model = PushMessageRecord

    def __init__(
        self,
        worker: PushWorker,
        scheduler: RetryScheduler,
        persistence: BasePersistenceLayer | None = None,
        metrics: MetricsSink | None = None,
        idempotency_seconds: int = 3600,
    ) -> None:
        self._worker = worker
        self._scheduler = scheduler
        self._metrics = metrics
        self._config = IdempotencyConfig(
            event_key_jmespath="push_id", expires_after_seconds=idempotency_seconds, raise_on_no_idempotency_key=True
        )
        if persistence is None:
            self._run = self._process
        else:
            self._run = idempotent_function(
                data_keyword_argument="message", persistence_store=persistence, config=self._config
            )(self._process)

    def register_context(self, context: LambdaContext) -> None:
        self._config.register_lambda_context(context)

    def _process(self, message: PushMessage, receive_count: int) -> dict[str, Any] | None:
        record = self._worker.process(message, receive_count)
        return record.model_dump(mode="json") if record else None

    def consume(self, record: PushMessageRecord) -> None:
        message = record.body
        receive_count = int(record.attributes.ApproximateReceiveCount)
        try:
            result = self._run(message=message, receive_count=receive_count)
        except RetryLater as retry:
            self._scheduler.retry_later(record.receiptHandle, retry.delay_seconds)
            self._count("PushRetries")
            raise
        except IdempotencyAlreadyInProgressError:
            # the same push is running in another container: come back when it is done
            self._scheduler.retry_later(record.receiptHandle, IN_PROGRESS_RETRY_SECONDS)
            raise
        except TransientDependencyError:
            # a table, secret or queue failed after the SDK's own retries: back off like a push error
            self._scheduler.retry_later(record.receiptHandle, self._worker.retry.delay(receive_count))
            self._count("PushRetries")
            raise
        if result is not None:
            self._count("PushSucceeded" if result["status"] == PushStatus.SUCCEEDED.value else "PushFailed")

    def _count(self, name: str) -> None:
        if self._metrics is not None:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


class StreamConsumer:
    """Reacts to history items (one per final outcome) as they are inserted."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    def consume(self, record: DynamoDBStreamRecordModel) -> None:
        image = record.dynamodb.NewImage
        if record.eventName != "INSERT" or not isinstance(image, dict) or image.get("type") != ITEM_HISTORY:
            return
        self._notifier.on_final(record_from_item(image))
