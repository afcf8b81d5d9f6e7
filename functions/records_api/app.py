"""Records API behind a Function URL (AWS_IAM auth): the routes are ``certpush.records_api`` (the
layer), so the same API runs here and on one machine. Thin: logging, tracing, one call."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from certpush.log_hygiene import pin_library_loggers
from certpush.logic.dashboard import Dashboard
from certpush.records_api import app, resolve

pin_library_loggers()  # before any client: no body in a log at any level (certpush.log_hygiene)
logger = Logger()
tracer = Tracer()

__all__ = ["app", "handler"]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext, dashboard: Dashboard | None = None) -> dict[str, Any]:
    return resolve(event, context, dashboard)
