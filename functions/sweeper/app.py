"""Sweeper: a schedule (EventBridge Scheduler rule) -> re-queue pushes left in flight too long, or
end them FAILED (STUCK). Thin: one call into the domain."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.log_hygiene import pin_library_loggers
from certpush.logic.sweeper import Sweeper
from certpush.settings import Settings
from certpush.wiring import build_sweeper

pin_library_loggers()  # before any client: no body in a log at any level (certpush.log_hygiene)
logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def _sweeper() -> Sweeper:
    return build_sweeper(Settings.from_env(os.environ))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, sweeper: Sweeper | None = None) -> dict[str, Any]:
    outcome = (sweeper or _sweeper()).sweep()
    metrics.add_metric(name="PushesRequeued", unit=MetricUnit.Count, value=len(outcome.requeued))
    metrics.add_metric(name="PushesStuck", unit=MetricUnit.Count, value=len(outcome.ended))
    return {"requeued": [r.push_id for r in outcome.requeued], "ended": [r.push_id for r in outcome.ended]}
