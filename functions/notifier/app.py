"""Notifier: records table stream -> "configure now" events for SUCCEEDED pushes and one summary
per issuance. Partial batch responses: a failed record is retried from its sequence number."""

from __future__ import annotations

from certpush import init_phase  # isort: skip (first: the collector pauses for init, certpush.init_phase)

init_phase.begin()

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.adapters.batch_logging import LoggedBatchProcessor
from certpush.log_hygiene import pin_library_loggers
from certpush.settings import Settings
from certpush.snapstart import BuiltOnce, prime
from certpush.wiring import build_notifier

# Powertools' batch utility comes before anything that imports pydantic (the sorted imports do it):
# imported after pydantic it builds the parser models of every batch source, Kafka's and Kinesis' too
# (aws_lambda_powertools/utilities/batch/types.py: ~50 ms of a cold start; tests/integration/test_layer_build.py)

if TYPE_CHECKING:
    from certpush.adapters.consumers import StreamConsumer

pin_library_loggers()  # before any client: no body in a log at any level (certpush.log_hygiene)
logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # what it calls: AWS only (patching all would import httpx)
metrics = Metrics()


def _build() -> StreamConsumer:
    from certpush.adapters.consumers import StreamConsumer

    # the notifier pushes nothing: no target's settings, no provider's definitions
    return StreamConsumer(build_notifier(Settings.without_targets(os.environ)))


# built at the first invocation, or during init under SnapStart (certpush.snapstart)
_consumer: BuiltOnce[StreamConsumer] = BuiltOnce(_build)
prime(_consumer)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, consumer: StreamConsumer | None = None) -> dict[str, Any]:
    consumer = consumer or _consumer()
    with consumer.batch():  # the batch's events go out together, ten to a call
        return process_partial_response(
            event=event,
            record_handler=consumer.consume,
            # a batch whose every record failed is reported like any other (retried from its first
            # sequence number) rather than raised: the invocation itself did not fail
            processor=LoggedBatchProcessor(
                event_type=EventType.DynamoDBStreams,
                model=DynamoDBStreamRecordModel,
                raise_on_entire_batch_failure=False,
            ),
            context=context,
        )
