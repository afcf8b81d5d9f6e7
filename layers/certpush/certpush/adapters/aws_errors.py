"""AWS errors as our own exceptions: the one place that classifies them, for the stores and queues
(``aws_errors`` / ``dependency_error``) and for the push targets (``translate_aws_error``, used by
``certpush.providers.aws``). Both decide by type, error code and HTTP status, never by message text,
starting from botocore's own retry classification (``botocore.retries.standard``: the throttling
codes, the transient codes and statuses, connection errors).

Stores and queues: an error botocore's standard retry mode would retry and that still reached us
after its attempts is ``TransientDependencyError`` (the caller retries later: the push worker with
backoff, a Lambda invocation by failing). Anything else is ``PermanentDependencyError``.

Push targets: the same transient set, with what a push needs on top: a few more codes that pass
(``_TARGET_TRANSIENT_CODES``), ACM's ``LimitExceededException`` read as the certificate quota it is
(botocore counts it as throttling), the codes that mean the service is not there for us, and
``ambiguous`` for a request that may have been carried out unseen (the retry settles, then looks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.retries import standard

from certpush.errors import (
    DependencyError,
    PermanentDependencyError,
    PermanentPushError,
    PushError,
    ServiceUnavailableInRegionError,
    TransientDependencyError,
    TransientPushError,
)

_THROTTLED = standard.ThrottledRetryableChecker()
_RETRYABLE = standard.OrRetryChecker([_THROTTLED, standard.TransientRetryableChecker()])


@dataclass(frozen=True)
class _HttpStatus:
    status_code: int


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def is_throttle(parsed_response: Any, status: int = 0) -> bool:
    """Whether an answer is the service's flow control (botocore's throttling codes, or a 429): a
    throttle is waited out and never counted as one of a push's attempts."""
    if status == 429:
        return True
    if not isinstance(parsed_response, dict):
        return False
    context = standard.RetryContext(
        attempt_number=1, parsed_response=parsed_response, http_response=_HttpStatus(status) if status else None
    )
    return bool(_THROTTLED.is_retryable(context))


def is_transient(exc: BaseException) -> bool:
    """Whether botocore's standard retry mode counts ``exc`` as throttling or transient."""
    if isinstance(exc, ClientError):
        status = _status(exc)
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


# -- push targets (ACM, ELBv2, CloudFront, the Resource Groups Tagging API) ------------------------------
# Transient for a push beyond botocore's list (which has the throttling codes, e.g. the tagging API's
# ThrottledException, and 500/502/503/504): any 5xx and 429 by status, and these codes whatever the status.
_TARGET_TRANSIENT_CODES = frozenset(
    {
        "RequestInProgressException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServiceError",
        "InternalServiceException",  # the Resource Groups Tagging API's
        "CertificateNotFound",  # ELBv2 may not see a fresh ACM import for a moment
    }
)
_TARGET_UNAVAILABLE_CODES = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "OptInRequired", "UnrecognizedClientException"}
)
# ACM ImportCertificate's LimitExceededException is the account's certificate quota, not a throttle
_TARGET_QUOTA_CODES = frozenset({"LimitExceededException", "TooManyCertificates", "TooManyTagsException"})
_LISTENER_NOT_FOUND_CODES = frozenset({"ListenerNotFound", "ListenerNotFoundException"})


def translate_aws_error(exc: Exception, action: str, *, changes: bool = True) -> PushError:
    """A push target's ClientError / transport error -> our exceptions.

    ``changes``: the request changes something; a read (``changes=False``) is never ambiguous, since
    a read carried out unseen leaves nothing for the retry to find."""
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        # sent, but no answer came: ACM may have done it (a late import) -- the retry settles, then looks
        return TransientPushError("NETWORK", f"{action}: {exc}", ambiguous=changes)
    if isinstance(exc, ConnectionError):
        return TransientPushError("NETWORK", f"{action}: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = _status(exc)
        message = f"{action}: {error.get('Message', code)}"
        if code in _TARGET_QUOTA_CODES:
            return PermanentPushError("QUOTA_EXCEEDED", f"{message} ({code})")
        if code in _TARGET_TRANSIENT_CODES or status >= 500 or status == 429 or is_transient(exc):
            # a 5xx other than 503 may come after the work was done (an internal failure, a gateway timeout)
            return TransientPushError(
                code,
                message,
                ambiguous=changes and status >= 500 and status != 503,
                throttled=is_throttle(exc.response, status),
            )
        if code in _TARGET_UNAVAILABLE_CODES:
            return ServiceUnavailableInRegionError("SERVICE_UNAVAILABLE", f"{message} ({code})")
        if code in _LISTENER_NOT_FOUND_CODES:
            return PermanentPushError("LISTENER_NOT_FOUND", message)
        return PermanentPushError("CERTIFICATE_REFUSED", f"{message} ({code})")
    if isinstance(exc, BotoCoreError):
        return TransientPushError("NETWORK", f"{action}: {exc}")
    return PermanentPushError("UNEXPECTED", f"{action}: {exc}")
