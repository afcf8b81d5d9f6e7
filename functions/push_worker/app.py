"""Push worker: SQS batch -> one push per message, the messages of a batch pushed at the same time
(``PUSH_CONCURRENCY`` threads) -> final records. Partial batch responses: a message that must be
retried comes back alone (with backoff), never with its whole batch."""

from __future__ import annotations

from certpush import init_phase  # isort: skip (first: the collector pauses for init, certpush.init_phase)

init_phase.begin()

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.adapters.concurrent_batch import ConcurrentBatchProcessor
from certpush.log_hygiene import pin_library_loggers
from certpush.settings import Settings
from certpush.snapstart import BuiltOnce, prime
from certpush.wiring import build_push_consumer

# Powertools' batch utility comes before anything that imports pydantic (the sorted imports do it):
# imported after pydantic it builds the parser models of every batch source, Kafka's and Kinesis' too
# (aws_lambda_powertools/utilities/batch/types.py: ~50 ms of a cold start; tests/integration/test_layer_build.py)

if TYPE_CHECKING:
    from certpush.adapters.consumers import PushConsumer

pin_library_loggers()  # before any client: no body in a log at any level (certpush.log_hygiene)
logger = Logger()
# AWS at once; Huawei Cloud's httpx when a push first needs its client (BuildContext.instrument): a
# worker that pushes only to AWS never imports httpx
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()


# built at the first invocation, or during init under SnapStart (certpush.snapstart)
_consumer: BuiltOnce[PushConsumer] = BuiltOnce(
    lambda: build_push_consumer(
        Settings.from_env(os.environ), metrics=metrics, instrument=lambda library: tracer.patch([library])
    )
)
prime(_consumer)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, consumer: PushConsumer | None = None) -> dict[str, Any]:
    consumer = consumer or _consumer()
    consumer.prepare(event.get("Records", []))
    return process_partial_response(
        event=event,
        record_handler=consumer.consume,
        # a scheduled retry is flow control, not an error: a batch whose every message is waiting for
        # its backoff reports them all instead of failing the invocation (and throttling the function)
        processor=ConcurrentBatchProcessor(
            event_type=EventType.SQS,
            model=consumer.record_model,
            raise_on_entire_batch_failure=False,
            max_workers=consumer.concurrency,
        ),
        context=context,
    )
