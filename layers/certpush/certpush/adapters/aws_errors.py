"""AWS errors of the stores and queues (not the push targets, see aws_acm.py) as our own
exceptions, decided by botocore's own retry classification (``botocore.retries.standard``: the
throttling codes, the transient codes and statuses, connection errors) - never by message text.

An error botocore's standard retry mode would retry and that still reached us after its attempts
is ``TransientDependencyError``: the caller retries later (the push worker with backoff, a
Lambda invocation by failing). Anything else is ``PermanentDependencyError``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from botocore.retries import standard

from certpush.errors import DependencyError, PermanentDependencyError, TransientDependencyError

_RETRYABLE = standard.OrRetryChecker([standard.ThrottledRetryableChecker(), standard.TransientRetryableChecker()])


@dataclass(frozen=True)
class _HttpStatus:
    status_code: int


def is_transient(exc: BaseException) -> bool:
    """Whether botocore's standard retry mode counts ``exc`` as throttling or transient."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        context = standard.RetryContext(
            attempt_number=1, parsed_response=exc.response, http_response=_HttpStatus(status) if status else None
        )
        return bool(_RETRYABLE.is_retryable(context))
    return isinstance(exc, ConnectionError | HTTPClientError | BotoCoreError)


def dependency_error(exc: BaseException, action: str) -> DependencyError:
    code = str(exc.response.get("Error", {}).get("Code", "Unknown")) if isinstance(exc, ClientError) else "NETWORK"
    message = f"{action}: {exc}"
    if is_transient(exc):
        return TransientDependencyError(code, message)
    return PermanentDependencyError(code, message)


@contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Re-raises an AWS SDK error leaving the block as our own (``raise ... from exc``)."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise dependency_error(exc, action) from exc
