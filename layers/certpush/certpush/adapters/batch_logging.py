"""A ``BatchProcessor`` that says why it failed each record: one WARNING per failed record (an SQS
message or a stream record), with the record's id and the reason, so that a message which ends in
the dead-letter queue has a log line for every attempt.

Powertools' own ``logger=`` option logs the traceback, whose text can quote the record's input;
this one logs the exception type and, for a parse failure, where the input is wrong (never the
input itself), so no body ever reaches a log."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, FailureResponse
from pydantic import ValidationError

from certpush.errors import CertpushError

logger = Logger(child=True)

_ID_ATTRIBUTES = ("messageId", "message_id", "eventID", "event_id")


def record_id(record: Any) -> str | None:
    """The id of a parsed or raw SQS / DynamoDB stream record (message id, or stream event id and
    sequence number)."""
    for attribute in _ID_ATTRIBUTES:
        value = getattr(record, attribute, None)
        if isinstance(value, str):
            stream = getattr(record, "dynamodb", None)
            sequence = getattr(stream, "SequenceNumber", None) or getattr(stream, "sequence_number", None)
            return f"{value} (sequence {sequence})" if sequence else value
    if isinstance(record, dict):
        for attribute in _ID_ATTRIBUTES:
            if isinstance(record.get(attribute), str):
                return str(record[attribute])
    return None


def failure_reason(exc: BaseException | None) -> str:
    """Why a record failed, without quoting its input."""
    if exc is None:
        return "unknown"
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_input=False, include_url=False)
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in errors[:3])
        return f"malformed record ({exc.error_count()} error(s)): {where}"
    if isinstance(exc, CertpushError):
        return f"{type(exc).__name__}: {exc}"  # our messages never hold material
    return type(exc).__name__


class RecordParseError(CertpushError):
    """A record the parser model could not even convert (the DynamoDB deserializer raises TypeError,
    which pydantic does not turn into a ValidationError). ``title`` names the model, which is how
    Powertools recognises a poison record and reports it by its id instead of crashing the batch."""

    def __init__(self, model: type, cause: Exception) -> None:
        super().__init__(f"malformed record: {type(cause).__name__}: {str(cause)[:120]}")
        self.title = model.__name__


class LoggedBatchProcessor(BatchProcessor):
    def _to_batch_type(self, record: dict[str, Any], event_type: Any, model: Any = None) -> Any:
        try:
            return super()._to_batch_type(record, event_type=event_type, model=model)
        except (TypeError, ValueError, KeyError) as exc:
            if model is None or isinstance(exc, ValidationError):
                raise
            raise RecordParseError(model, exc) from exc

    def failure_handler(self, record: Any, exception: Any) -> FailureResponse:
        logger.warning(
            "batch record failed: it will be retried (or go to the dead-letter queue)",
            extra={"record_id": record_id(record), "reason": failure_reason(exception[1])},
        )
        return super().failure_handler(record, exception)
