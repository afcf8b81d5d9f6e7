"""Push worker: one queue message -> one push to one (provider, service, region) -> a final record.

Transient errors come back through the queue with exponential backoff until ``max_attempts``; then,
and for every permanent error at once, the record ends FAILED with the error code."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from aws_lambda_powertools import Logger

from certpush.errors import (
    CertificateNotFoundError,
    ConfigurationError,
    DependencyError,
    PermanentPushError,
    StalePushError,
    TransientDependencyError,
    TransientPushError,
)
from certpush.models.domain import CertificateStatus, PushRecord, PushRequest, PushStatus
from certpush.models.messages import PushMessage
from certpush.ports import CertificateStore, Clock, PushTarget, RecordsRepository

logger = Logger(child=True)

T = TypeVar("T")


class RetryLater(Exception):
    """The push hit a transient error: the message should come back after ``delay_seconds``."""

    def __init__(self, delay_seconds: int, cause: Exception) -> None:
        super().__init__(f"retry in {delay_seconds}s: {cause}")
        self.delay_seconds = delay_seconds


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: int = 10
    max_seconds: int = 900
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> int:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return int(ceiling / 2 + self.jitter() * ceiling / 2)


@dataclass
class PushWorker:
    store: CertificateStore
    records: RecordsRepository
    targets: Mapping[tuple[str, str], PushTarget]
    clock: Clock
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    monotonic: Callable[[], float] = time.monotonic
    lease_seconds: int = 90
    prepared_seconds: float = 5.0
    _prepared: dict[tuple[object, ...], tuple[float, object]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def prepare(self, messages: Sequence[PushMessage]) -> None:
        """Reads what a batch of pushes needs in one call per table (BatchGetItem) and each distinct
        certificate's material once, before the pushes run at the same time: without it, each push
        makes these reads on its own. What is read here serves for ``prepared_seconds`` only (the
        batch), so a certificate revoked since is seen by the next batch."""
        if not messages:
            return
        versions = self.store.get_versions(list({(m.certificate_id, m.version) for m in messages}))
        wanted = list({(m.certificate_id, m.target) for m in messages})
        bindings = self.records.deployed_target_ids(wanted)
        until = self.monotonic() + self.prepared_seconds
        with self._lock:
            for key, version in versions.items():
                self._prepared[("version", *key)] = (until, version)
            for certificate_id, target in wanted:
                self._prepared[("binding", certificate_id, target)] = (until, bindings.get((certificate_id, target)))
        for version in versions.values():
            try:
                self.store.get_material(version)  # the store caches it for the pushes of the batch
            except CertificateNotFoundError:
                continue  # the push itself says so, in its record

    def _recall(self, key: tuple[object, ...], read: Callable[[], T]) -> T:
        now = self.monotonic()
        with self._lock:
            for stale in [k for k, (until, _) in self._prepared.items() if until < now]:
                del self._prepared[stale]
            known = self._prepared.get(key)
        return cast(T, known[1]) if known is not None else read()

    def process(self, message: PushMessage, receive_count: int) -> PushRecord | None:
        """Returns the final record, or None when the message was stale (already done elsewhere).
        Raises RetryLater for a transient error with attempts left, PushInProgressError while
        another invocation holds the push."""
        now = self.clock.now()
        claim = PushRecord(
            **message.model_dump(include={"certificate_id", "version", "provider", "service", "region"}),
            status=PushStatus.IN_PROGRESS,
            issuance_id=message.issuance_id,
            push_id=message.push_id,
            options=message.options,
            created_at=now,
            updated_at=now,
        )
        try:
            record = self.records.mark_in_progress(claim, self.lease_seconds)
        except StalePushError:
            logger.info("stale push message ignored", extra={"push_id": message.push_id})
            return None
        try:
            return self._push_claimed(record, message, receive_count)
        except TransientDependencyError as exc:
            # a table or secret failed after the SDK's retries: let the message's next delivery take
            # the push at once instead of waiting out the lease (best effort: the lease expires anyway)
            with contextlib.suppress(DependencyError):
                self.records.note_error(
                    record.model_copy(
                        update={"reason": exc.code, "message": exc.message, "updated_at": self.clock.now()}
                    )
                )
            raise

    def _push_claimed(self, record: PushRecord, message: PushMessage, receive_count: int) -> PushRecord | None:
        target = self.targets.get((message.provider, message.service))
        if target is None:
            return self._finish(
                record,
                PushStatus.FAILED,
                reason="UNKNOWN_TARGET",
                message=f"this deployment has no adapter for {message.provider}:{message.service}",
            )
        try:
            certificate = self._recall(
                ("version", message.certificate_id, message.version),
                lambda: self.store.get_version(message.certificate_id, message.version),
            )
            material = self.store.get_material(certificate)
        except CertificateNotFoundError as exc:
            return self._finish(record, PushStatus.FAILED, reason="CERTIFICATE_NOT_FOUND", message=str(exc))
        if certificate.status is not CertificateStatus.HOSTED:
            # revoked or deleted after the validator let it through: it must not go out now
            return self._finish(
                record, PushStatus.FAILED, reason="NOT_HOSTED",
                message=f"version {certificate.version} became {certificate.status.value} before it was pushed",
            )  # fmt: skip

        request = PushRequest(
            certificate=certificate,
            material=material,
            region=message.region,
            options=message.options,
            previous_target_id=self._recall(
                ("binding", message.certificate_id, message.target),
                lambda: self.records.deployed_target_id(message.certificate_id, message.target),
            ),
        )
        started = self.monotonic()
        try:
            result = target.push(request)
        except TransientPushError as exc:
            if record.attempts >= self.retry.max_attempts or receive_count >= self.retry.max_attempts:
                return self._finish(
                    record,
                    PushStatus.FAILED,
                    reason=exc.code,
                    message=f"gave up after {record.attempts} attempts: {exc.message}",
                )
            delay = self.retry.delay(record.attempts)
            self.records.note_error(
                record.model_copy(update={"reason": exc.code, "message": exc.message, "updated_at": self.clock.now()})
            )
            logger.warning(
                "transient push error, will retry",
                extra={"push_id": record.push_id, "code": exc.code, "attempt": record.attempts, "delay": delay},
            )
            raise RetryLater(delay, exc) from exc
        except PermanentPushError as exc:
            return self._finish(record, PushStatus.FAILED, reason=exc.code, message=exc.message)
        except ConfigurationError as exc:
            # e.g. no credentials for this provider yet: fix the configuration, then `certpush replay`
            return self._finish(record, PushStatus.FAILED, reason="NOT_CONFIGURED", message=str(exc))
        duration_ms = int((self.monotonic() - started) * 1000)
        return self._finish(
            record,
            PushStatus.SUCCEEDED,
            target_id=result.target_id,
            console_url=result.console_url or target.console_url(message.region, result.target_id),
            duration_ms=duration_ms,
            message=result.detail,
        )

    def _finish(self, record: PushRecord, status: PushStatus, **changes: object) -> PushRecord:
        final = record.model_copy(update={"status": status, "updated_at": self.clock.now(), "reason": None, **changes})
        if not self.records.finish(final):
            logger.info("push already final", extra={"push_id": record.push_id})
            return final
        log = logger.info if status is PushStatus.SUCCEEDED else logger.warning
        log(
            "push finished",
            extra={
                "push_id": final.push_id,
                "target": str(final.target),
                "status": status.value,
                "reason": final.reason,
                "attempts": final.attempts,
                "duration_ms": final.duration_ms,  # the operations dashboard's push durations
            },
        )
        return final
