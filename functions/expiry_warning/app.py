"""Expiry warning: once a day (EventBridge schedule), "Certificate Expiring" (EventBridge + SNS) for every
pushed certificate version that expires within EXPIRY_WARNING_DAYS, listing the targets that still
serve it. Thin: parse, one call into the domain, return."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.log_hygiene import pin_library_loggers
from certpush.logic.expiry import ExpiryWarnings
from certpush.settings import Settings
from certpush.wiring import build_expiry_warnings

pin_library_loggers()  # before any client: no body in a log at any level (certpush.log_hygiene)
logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def _warnings() -> ExpiryWarnings:
    return build_expiry_warnings(Settings.from_env(os.environ))


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, warnings: ExpiryWarnings | None = None) -> dict[str, Any]:
    parse(event=event, model=EventBridgeModel)  # the schedule's "Scheduled Event"; nothing in it is needed
    found = (warnings or _warnings()).run()
    metrics.add_metric(name="CertificatesExpiring", unit=MetricUnit.Count, value=len(found))
    return {"expiring": [f"{d.certificate_id} v{d.version} ({d.days_left} days)" for d in found]}
