"""Our own exceptions. Adapters translate SDK and HTTP errors into these (``raise ... from exc``)
so that the domain decides on retries by type, never by message text."""

from __future__ import annotations

from datetime import datetime

from certpush.logic.redaction import scrub_target_text

# a push's or a dependency's error text becomes a record's message: scrubbed of key material here,
# once, whatever adapter raised it (certpush.logic.redaction)
MAX_RECORDED_MESSAGE = 500


class CertpushError(Exception):
    """Base class for every error certpush raises on purpose."""


class CertificateNotFoundError(CertpushError):
    def __init__(self, certificate_id: str, version: int | None = None) -> None:
        what = certificate_id if version is None else f"{certificate_id} version {version}"
        super().__init__(f"certificate {what} is not in the inventory")
        self.certificate_id = certificate_id
        self.version = version


class ConcurrentImportError(CertpushError):
    """Other imports of the same certificate id kept taking the next version number."""

    def __init__(self, certificate_id: str) -> None:
        super().__init__(f"other imports of {certificate_id} are under way; nothing was imported, try again")
        self.certificate_id = certificate_id


class InvalidCertificateError(CertpushError):
    """Material that cannot be parsed or used (bad PEM, key does not match, chain broken)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PushError(CertpushError):
    """A push to a target failed. ``retryable`` says whether trying again can help."""

    retryable: bool = False

    def __init__(self, code: str, message: str) -> None:
        message = scrub_target_text(message, MAX_RECORDED_MESSAGE)
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransientPushError(PushError):
    """Throttling, 5xx, timeouts, connection errors: the same request may succeed later.

    ``ambiguous``: the request may have been carried out although no answer said so (a timeout after it
    was sent, a connection dropped before the answer, a gateway timeout): a retry must first look for what
    it may have made, and only once the target had time to finish it (``RetryPolicy.settle_seconds``).
    ``retry_after``: the least wait in seconds the target asked for (an HTTP ``Retry-After``), which the
    retry honours. ``throttled``: the target's flow control refused the request (HTTP 429)."""

    retryable = True

    def __init__(
        self,
        code: str,
        message: str,
        *,
        ambiguous: bool = False,
        retry_after: int | None = None,
        throttled: bool = False,
    ) -> None:
        super().__init__(code, message)
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.throttled = throttled


class PermanentPushError(PushError):
    """The target refused the certificate, a quota is exhausted, permission is missing..."""

    retryable = False


class ServiceUnavailableInRegionError(PermanentPushError):
    """The account has no such service in that region (not purchased, not enabled, no permission)."""


class AuthenticationFailedError(PermanentPushError):
    """The target refused the credentials themselves (a wrong or revoked key, a locked key, a clock too
    far off to sign with), after they were read again once: final at once, since retrying a refused key
    only brings a lockout closer. ``code`` is ``AUTH_FAILED``; ``gateway_code`` the target's own code."""

    CODE = "AUTH_FAILED"

    def __init__(self, gateway_code: str, message: str) -> None:
        super().__init__(self.CODE, message)
        self.gateway_code = gateway_code


class DependencyError(CertpushError):
    """A store, queue or bus certpush relies on (DynamoDB, SQS, Secrets Manager, EventBridge...) failed."""

    retryable: bool = False

    def __init__(self, code: str, message: str) -> None:
        message = scrub_target_text(message, MAX_RECORDED_MESSAGE)
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransientDependencyError(DependencyError):
    """Throttling, 5xx, timeouts, connection errors, after the SDK's own retries: try again later."""

    retryable = True


class PermanentDependencyError(DependencyError):
    """Access denied, a missing resource, a malformed request: a retry cannot help."""


class ConfigurationError(CertpushError):
    """Settings are missing or malformed."""


class PushInProgressError(CertpushError):
    """Another invocation holds the push (its lease has not run out): try again later, never twice at once."""

    def __init__(self, push_id: str) -> None:
        super().__init__(f"push {push_id} is under way elsewhere")
        self.push_id = push_id


class PushSettlingError(CertpushError):
    """A claim refused (not a failure): an earlier attempt ended in an ambiguous error (a request the
    target may still carry out), so no attempt before ``until``, when the retry looks for what that one
    made. The message comes back for the rest of the wait (``seconds_left``), no attempt counted."""

    def __init__(self, push_id: str, until: datetime, seconds_left: int) -> None:
        super().__init__(f"push {push_id} waits until {until.isoformat()} for a late create to show")
        self.push_id = push_id
        self.until = until
        self.seconds_left = seconds_left


class StalePushError(CertpushError):
    """A queue message belongs to a push that is already final or was superseded: nothing to do."""

    def __init__(self, push_id: str) -> None:
        super().__init__(f"push {push_id} is final or superseded")
        self.push_id = push_id


class InvalidQueryError(CertpushError):
    """A dashboard query that cannot be answered as asked (a foreign cursor, a reversed time window)."""


class SupersededPushError(CertpushError):
    """The target holds a newer version of the certificate and the push is no rollback: versions only
    move forward (the push ends SUPERSEDED)."""

    def __init__(self, push_id: str, held_version: int) -> None:
        super().__init__(f"push {push_id}: the target holds version {held_version}, a newer one")
        self.push_id = push_id
        self.held_version = held_version


class AlreadyImportedError(CertpushError):
    """The latest version of the certificate holds exactly this material (an identical import won)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"already imported as version {version}")
        self.version = version


class RecordsInUseError(CertpushError):
    """``forget``: a record of the target is in flight, or the target holds a certificate certpush pushed
    (a live record, a binding naming it): its records are what certpush knows of it, so they stay."""

    def __init__(self, target: str, why: str) -> None:
        super().__init__(f"the records of {target} are in use: {why}")
        self.target = target
