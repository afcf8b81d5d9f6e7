"""Validator: "Certificate Issued" (EventBridge) -> PENDING records + one SQS message per target,
or REJECTED records with a reason code. Thin: parse, one call into the domain, return."""

from __future__ import annotations

from certpush import init_phase  # isort: skip (first: the collector pauses for init, certpush.init_phase)

init_phase.begin()

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.log_hygiene import pin_library_loggers
from certpush.models.events import ENVELOPE_FIELDS, CertificateIssuedEvent
from certpush.settings import Settings
from certpush.snapstart import BuiltOnce, prime
from certpush.wiring import build_validator

if TYPE_CHECKING:
    from certpush.logic.validation import Validator

pin_library_loggers()  # before any client: no body in a log at any level (certpush.log_hygiene)
logger = Logger()
tracer = Tracer(patch_modules=["botocore"])  # what it calls: AWS only (patching all would import httpx)
metrics = Metrics()


# built at the first invocation, or during init under SnapStart (certpush.snapstart)
_validator = BuiltOnce(lambda: build_validator(Settings.from_env(os.environ)))
prime(_validator)


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, validator: Validator | None = None) -> dict[str, Any]:
    try:
        parsed = parse(event=event, model=CertificateIssuedEvent)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if any(
            error["type"] == "literal_error" and error["loc"][:1] in [(f,) for f in ENVELOPE_FIELDS] for error in errors
        ):
            # a rule or a test sent something else: not ours to validate, but never silently dropped
            envelope = event if isinstance(event, dict) else {}
            logger.warning(
                "ignored an event that is not a Certificate Issued event from certpush.certificates",
                extra={field: str(envelope.get(field))[:200] for field in ENVELOPE_FIELDS},
            )
            metrics.add_metric(name="IgnoredEvents", unit=MetricUnit.Count, value=1)
            return {"status": "IGNORED", "errors": [e["msg"] for e in errors]}
        # retrying a malformed event cannot help: say what is wrong and stop here
        logger.error("malformed Certificate Issued event", extra={"errors": exc.errors(include_input=False)})
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        return {"status": "MALFORMED", "errors": [e["msg"] for e in exc.errors()]}
    # a replayed event (EventBridge StartReplay) carries replay-name: the validator reports what it did
    outcome = (validator or _validator()).validate(parsed.detail, parsed.id, replay_name=parsed.replay_name)
    metrics.add_metric(name="PushesQueued", unit=MetricUnit.Count, value=len(outcome.queued))
    metrics.add_metric(name="PushesRejected", unit=MetricUnit.Count, value=len(outcome.rejected))
    return {
        "status": "ACCEPTED",
        "issuance_id": outcome.issuance_id,
        "queued": [str(k) for k in outcome.queued],
        "rejected": {k: r.reason.value for k, r in outcome.rejected.items()},
    }
