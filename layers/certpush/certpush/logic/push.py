"""Push worker: one queue message -> one push to one (provider, service, region) -> a final record.

Transient errors come back through the queue with exponential backoff until ``max_attempts``; then,
and for every permanent error at once, the record ends FAILED with the error code (ATTACH_FAILED
when the certificate got into the target and only attaching it failed)."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar, cast

from aws_lambda_powertools import Logger

from certpush.errors import (
    CertificateNotFoundError,
    ConfigurationError,
    DependencyError,
    PermanentPushError,
    StalePushError,
    SupersededPushError,
    TransientDependencyError,
    TransientPushError,
)
from certpush.logic.record_rules import superseded
from certpush.models.domain import (
    Binding,
    CertificateStatus,
    PushRecord,
    PushRequest,
    PushStatus,
    UploadAction,
    UploadResult,
)
from certpush.models.messages import PushMessage
from certpush.ports import CertificateStore, Clock, PushLifecycle, PushTarget

logger = Logger(child=True)

T = TypeVar("T")


class RetryLater(Exception):
    """The push hit a transient error: the message should come back after ``delay_seconds``."""

    def __init__(self, delay_seconds: int, cause: Exception) -> None:
        super().__init__(f"retry in {delay_seconds}s: {cause}")
        self.delay_seconds = delay_seconds
        self.cause = cause


@dataclass(frozen=True)
class RetryPolicy:
    """``settle_seconds``: the least wait after an ambiguous error (a request the target may still be
    carrying out): long enough for a create that lands after the client gave up to show, so that the
    retry's lookup finds it instead of creating a second copy."""

    max_attempts: int = 5
    base_seconds: int = 10
    max_seconds: int = 900
    settle_seconds: int = 30
    throttle_wait_seconds: float = 10.0
    """How long one attempt waits out the target's throttles in the call (the lease's heartbeat runs);
    past that the message comes back after the wait asked for, the attempt not counted. Small enough for
    a push that starts with PUSH_TIME_BUDGET_SECONDS (30) left of the worker's 60 s to finish in time."""
    throttle_pause_seconds: float = 1.0
    """The wait after a throttle that names none (AWS sends no Retry-After)."""
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int, *, ambiguous: bool = False, retry_after: int | None = None) -> int:
        """Exponential backoff with "equal jitter": half fixed, half random; at least ``settle_seconds``
        after an ambiguous error, and at least ``retry_after`` when the target said how long to wait
        (an HTTP ``Retry-After``: coming back sooner only meets its flow control again)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        backoff = int(ceiling / 2 + self.jitter() * ceiling / 2)
        if ambiguous:
            backoff = max(backoff, self.settle_seconds)
        return max(backoff, retry_after) if retry_after is not None else backoff


@dataclass
class PushWorker:
    """Runs one push: claim (lease on the record and the target's binding), upload, attach, finish.

    - Versions only move forward: a push of an older version than the one its target holds ends
      SUPERSEDED without touching the target, unless the record is a ``rollback``.
    - The certificate first, the attachment second, each recorded: a permanent attach error (or
      transient ones until attempts run out) after the upload ends ATTACH_FAILED — the certificate is
      in the target and the binding says so; a replay then attaches only.
    - The lease holds while the target is called: a heartbeat extends it every ``lease_seconds / 3``
      (none for a push shorter than that); a worker that lost its lease writes nothing.
    - The attach references come from the stored record (written by the validator), never from the
      queue message."""

    store: CertificateStore
    records: PushLifecycle
    targets: Mapping[tuple[str, str], PushTarget]
    clock: Clock
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    lease_seconds: int = 90
    heartbeat_seconds: float | None = None
    prepared_seconds: float = 5.0
    _prepared: dict[tuple[object, ...], tuple[float, object]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def prepare(self, messages: Sequence[PushMessage]) -> None:
        """Reads what a batch of pushes needs in one call per table (BatchGetItem: the versions; the
        records with their targets' bindings) and each distinct certificate's material once, before
        the pushes run at the same time: without it, each push makes these reads on its own. What is
        read here serves for ``prepared_seconds`` only (the batch): a claim conditioned on a state
        that changed since reads again."""
        if not messages:
            return
        versions = self.store.get_versions(list({(m.certificate_id, m.version) for m in messages}))
        states = self.records.push_states(list({(m.certificate_id, m.version, m.target) for m in messages}))
        until = self.monotonic() + self.prepared_seconds
        with self._lock:
            for key, version in versions.items():
                self._prepared[("version", *key)] = (until, version)
            for state_key, state in states.items():
                self._prepared[("state", *state_key)] = (until, state)
        for version in versions.values():
            try:
                self.store.get_material(version)  # the store caches it for the pushes of the batch
            except CertificateNotFoundError:
                continue  # the push itself says so, in its record

    def _recall(self, key: tuple[object, ...], read: Callable[[], T], *, once: bool = False) -> T:
        now = self.monotonic()
        with self._lock:
            for stale in [k for k, (until, _) in self._prepared.items() if until < now]:
                del self._prepared[stale]
            known = self._prepared.pop(key, None) if once else self._prepared.get(key)
        return cast(T, known[1]) if known is not None else read()

    def process(self, message: PushMessage, receive_count: int) -> PushRecord | None:
        """Returns the final record, or None when the message was stale (already done elsewhere).
        Raises RetryLater for a transient error with attempts left, PushInProgressError while
        another invocation holds the push (or another push of the same certificate to the target),
        PushSettlingError while the settle wait after an ambiguous error runs (nothing written)."""
        key = (message.certificate_id, message.version, message.target)
        state = self._recall(("state", *key), lambda: self.records.push_states([key])[key], once=True)
        if state.record is None or state.record.push_id != message.push_id or state.record.status.is_final:
            logger.info("stale push message ignored", extra={"push_id": message.push_id})
            return None
        try:
            claimed = self.records.claim(state, self.clock.now(), self.lease_seconds)
        except StalePushError:
            logger.info("stale push message ignored", extra={"push_id": message.push_id})
            return None
        except SupersededPushError as exc:
            ended = superseded(state.record, exc.held_version, self.clock.now())
            return self._finish(ended, PushStatus.SUPERSEDED, reason=ended.reason, message=ended.message)
        record = claimed.record
        assert record is not None
        try:
            return self._push_claimed(record, claimed.binding, receive_count)
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

    def _push_claimed(self, record: PushRecord, binding: Binding | None, receive_count: int) -> PushRecord | None:
        target = self.targets.get((record.provider, record.service))
        if target is None:
            return self._finish(
                record,
                PushStatus.FAILED,
                reason="UNKNOWN_TARGET",
                message=f"this deployment has no adapter for {record.provider}:{record.service}",
            )
        try:
            certificate = self._recall(
                ("version", record.certificate_id, record.version),
                lambda: self.store.get_version(record.certificate_id, record.version),
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

        held = binding.target_id if binding is not None and binding.version is not None else None
        request = PushRequest(
            certificate=certificate,
            material=material,
            region=record.region,
            options=record.options,  # what the validator recorded; the message's copy is not trusted
            previous_target_id=held,
        )
        started = self.monotonic()
        upload: UploadResult | None = None
        throttled: list[float] = []  # the seconds this attempt waited out throttles
        # the last attempt went unanswered: this delivery only looks for what it may have left (``_last_look``;
        # the look counts no attempt: ``_attempts``)
        looking = record.last_look
        try:
            with self._heartbeat(record):
                if held and binding is not None and binding.version == record.version and not record.forced:
                    # the binding says this version is there already (a replay of ATTACH_FAILED): attach only
                    upload = UploadResult(
                        target_id=held, action=UploadAction.REUSED, detail=f"version {record.version} is there already"
                    )
                elif looking:
                    # what the attempts uploaded, as recorded (the last one's attach went unanswered), else a look
                    upload = _earlier_upload(record) or self._through_throttles(
                        record, lambda: target.find(request), throttled
                    )
                    if upload is None:
                        return self._finish(
                            record, PushStatus.FAILED, reason=record.reason or "GAVE_UP",
                            message=f"{_given_up(record)}; nothing it sent had arrived in the target "
                            f"{self.retry.settle_seconds} s after the last attempt",
                        )  # fmt: skip
                else:
                    upload = self._through_throttles(record, lambda: target.upload(request), throttled)
                target_id = upload.target_id
                attached = self._through_throttles(record, lambda: target.attach(request, target_id), throttled)
        except TransientPushError as exc:
            if looking and upload is None and not exc.throttled:  # throttled: looked at again later
                return self._finish(
                    record, PushStatus.FAILED, reason=record.reason or exc.code,
                    message=f"{_given_up(record)}; looking for what it may have left failed too ({exc.message}): "
                    "the target may hold a copy, which the next push to it finds and reuses",
                )  # fmt: skip
            return self._retry_or_give_up(
                record, target, binding, upload or _earlier_upload(record), exc, receive_count
            )
        except (PermanentPushError, ConfigurationError) as exc:
            # e.g. no credentials for this provider yet: fix the configuration, then `certpush replay`
            code = exc.code if isinstance(exc, PermanentPushError) else "NOT_CONFIGURED"
            text = exc.message if isinstance(exc, PermanentPushError) else str(exc)
            upload = upload or _earlier_upload(record)
            if upload is None:
                return self._finish(record, PushStatus.FAILED, reason=code, message=text)
            return self._attach_failed(record, target, binding, upload, code, text)
        duration_ms = int((self.monotonic() - started) * 1000)
        detail = "; ".join(d for d in (upload.detail, attached.detail) if d) or None
        return self._finish(
            record,
            PushStatus.SUCCEEDED,
            replacing=_replacing(binding, record, upload),
            target_id=upload.target_id,
            upload_action=upload.action,
            attached=tuple(attached.attached),
            console_url=target.console_url(record.region, upload.target_id),
            duration_ms=duration_ms,
            message=detail,
        )

    def _through_throttles(self, record: PushRecord, step: Callable[[], T], waited: list[float]) -> T:
        """Runs ``step`` (an upload or attach: idempotent, and a throttled request did nothing) again after
        each throttle the target answers, waiting what it asked (``Retry-After``) or
        ``throttle_pause_seconds``, while the attempt's waits stay within ``throttle_wait_seconds``. A
        throttle is the target's flow control, not a failure: it counts no attempt."""
        while True:
            try:
                return step()
            except TransientPushError as exc:
                if not exc.throttled:
                    raise
                pause = float(exc.retry_after) if exc.retry_after is not None else self.retry.throttle_pause_seconds
                if sum(waited) + pause > self.retry.throttle_wait_seconds:
                    raise
                logger.info(
                    "throttled by the target, waiting",
                    extra={"push_id": record.push_id, "code": exc.code, "wait_seconds": pause},
                )
                waited.append(pause)
                self.sleep(pause)

    def _retry_or_give_up(
        self,
        record: PushRecord,
        target: PushTarget,
        binding: Binding | None,
        upload: UploadResult | None,
        exc: TransientPushError,
        receive_count: int,
    ) -> PushRecord:
        if exc.throttled:
            # throttled for longer than an attempt waits: back through the queue after the wait asked for,
            # the attempt refunded (a throttle is no failure: it never makes a push FAILED)
            return self._retry_throttled(record, upload, exc)
        if record.attempts >= self.retry.max_attempts or receive_count >= self.retry.max_attempts:
            if exc.ambiguous and self.retry.settle_seconds > 0 and not record.last_look:
                # the last request may still land: one more delivery looks for it after the settle wait
                # before the record says FAILED (a record never says a target lacks what it holds)
                return self._last_look(record, upload, exc)
            given_up = f"gave up after {_attempts(record)} attempts: {exc.message}"
            if upload is not None:
                return self._attach_failed(record, target, binding, upload, exc.code, given_up)
            return self._finish(record, PushStatus.FAILED, reason=exc.code, message=given_up)
        delay = self.retry.delay(record.attempts, ambiguous=exc.ambiguous, retry_after=exc.retry_after)
        # "not before" after an ambiguous error: on the record and the binding, so that no delivery of any
        # message claims a push of this target before a late create had the time to show (record_rules)
        settles = exc.ambiguous and self.retry.settle_seconds > 0
        self._note(record, upload, exc, settles=settles)
        logger.warning(
            "transient push error, will retry",
            extra={"push_id": record.push_id, "code": exc.code, "attempt": record.attempts, "delay": delay},
        )
        raise RetryLater(delay, exc) from exc

    def _note(
        self,
        record: PushRecord,
        upload: UploadResult | None,
        exc: TransientPushError,
        *,
        settles: bool = False,
        last_look: bool = False,
        refund_attempt: bool = False,
    ) -> None:
        """The transient error on the record (and the upload fact, when the upload was done; the settle
        wait; the last look due), the claim given back: the message comes back later."""
        now = self.clock.now()
        changes: dict[str, object] = {"reason": exc.code, "message": exc.message, "updated_at": now}
        if settles:
            changes["settle_until"] = now + timedelta(seconds=self.retry.settle_seconds)
        if last_look:
            changes["last_look"] = True
        if upload is not None:
            changes |= {"target_id": upload.target_id, "upload_action": upload.action}
        if not self.records.note_error(record.model_copy(update=changes), refund_attempt=refund_attempt):
            what = "the throttle" if refund_attempt else "the transient error"
            logger.warning(f"lease lost: {what} is not recorded", extra={"push_id": record.push_id})

    def _last_look(self, record: PushRecord, upload: UploadResult | None, exc: TransientPushError) -> PushRecord:
        """The last attempt ended in an ambiguous error (sent, no answer): what it sent may still land.
        The push comes back once more after ``settle_seconds`` (on the record, like every settle wait), and
        that delivery, its attempts spent, makes nothing: it looks (``PushTarget.find``), attaches what it
        finds, or says FAILED when nothing arrived. When the upload was done and the attach went
        unanswered, the look attaches again: attaching is idempotent (what holds the certificate already is
        left as it is) and makes no copy, so the record then says what holds it. Once: a look that fails
        ends the push. The record carries ``last_look`` until it is final."""
        self._note(record, upload, exc, settles=True, last_look=True)  # the upload fact, for the look to attach
        logger.warning(
            "last attempt without an answer: looking for what it may have made before giving up",
            extra={"push_id": record.push_id, "code": exc.code, "attempt": record.attempts},
        )
        raise RetryLater(self.retry.settle_seconds, exc) from exc

    def _retry_throttled(self, record: PushRecord, upload: UploadResult | None, exc: TransientPushError) -> PushRecord:
        delay = max(int(self.retry.throttle_pause_seconds), exc.retry_after or 0, int(self.retry.throttle_wait_seconds))
        self._note(record, upload, exc, refund_attempt=True)
        logger.warning(
            "throttled by the target past this attempt's wait, will retry",
            extra={"push_id": record.push_id, "code": exc.code, "attempt": record.attempts - 1, "delay": delay},
        )
        raise RetryLater(delay, exc) from exc

    def _attach_failed(
        self,
        record: PushRecord,
        target: PushTarget,
        binding: Binding | None,
        upload: UploadResult,
        code: str,
        text: str,
    ) -> PushRecord:
        """The certificate is in the target (the binding moves to it); attaching it failed."""
        return self._finish(
            record,
            PushStatus.ATTACH_FAILED,
            replacing=_replacing(binding, record, upload),
            reason=code,
            message=f"{upload.detail or 'uploaded'}; attaching failed: {text}",
            target_id=upload.target_id,
            upload_action=upload.action,
            attached=(),
            console_url=target.console_url(record.region, upload.target_id),  # "Configure Now": it is there
        )

    @contextlib.contextmanager
    def _heartbeat(self, record: PushRecord) -> Iterator[None]:
        """Extends the claim's leases every ``heartbeat_seconds`` (default a third of the lease) while
        the block runs, from a thread of its own. Stops at the first lease it finds lost: the finish
        then writes nothing (it is conditional on the same token)."""
        interval = self.heartbeat_seconds or self.lease_seconds / 3
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(interval):
                until = self.clock.now() + timedelta(seconds=self.lease_seconds)
                try:
                    if not self.records.extend_lease(record, until):
                        logger.warning("lease lost while pushing", extra={"push_id": record.push_id})
                        return
                except DependencyError as exc:  # the next beat tries again, before the lease runs out
                    logger.warning("heartbeat failed", extra={"push_id": record.push_id, "error": exc.code})

        thread = threading.Thread(target=beat, name=f"lease-{record.push_id[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _finish(
        self, record: PushRecord, status: PushStatus, replacing: int | None = None, **changes: object
    ) -> PushRecord:
        update: dict[str, object] = {"status": status, "updated_at": self.clock.now(), "reason": None, **changes}
        if record.last_look:  # the look ends the push, and was no attempt
            update = {"attempts": _attempts(record), "last_look": False, **update}
        final = record.model_copy(update=update)
        if not self.records.finish(final, replacing=replacing):
            logger.warning(
                "push not recorded: it was final already or its lease was lost", extra={"push_id": record.push_id}
            )
            return final.model_copy(update={"lease_token": None, "lease_until": None})
        final = final.model_copy(update={"lease_token": None, "lease_until": None})
        log = logger.info if status.is_fine else logger.warning
        log(
            "push finished",
            extra={
                "push_id": final.push_id,
                "target": str(final.target),
                "status": status.value,
                "reason": final.reason,
                "attempts": final.attempts,
                "duration_ms": final.duration_ms,  # the operations dashboard's push durations
                "upload_action": final.upload_action.value if final.upload_action else None,
                "replaced": replacing,
            },
        )
        return final


def _attempts(record: PushRecord) -> int:
    """The push's attempts: the claims of it, but for a last look's (which makes nothing)."""
    return max(0, record.attempts - 1) if record.last_look else record.attempts


def _given_up(record: PushRecord) -> str:
    return f"gave up after {_attempts(record)} attempts: {record.message or record.reason or 'no answer'}"


def _earlier_upload(record: PushRecord) -> UploadResult | None:
    """The upload an earlier attempt of this push recorded (``note_error``): the certificate is there
    even when this attempt failed before its own upload finished."""
    if record.target_id is None or record.upload_action is None:
        return None
    return UploadResult(
        target_id=record.target_id, action=record.upload_action, detail="uploaded by an earlier attempt"
    )


def _replacing(binding: Binding | None, record: PushRecord, upload: UploadResult) -> int | None:
    """The version whose certificate this upload renewed in place: the binding's, when the upload
    went to the certificate the binding names (its record becomes REPLACED)."""
    if binding is None or binding.version is None or binding.version == record.version:
        return None
    return binding.version if binding.target_id == upload.target_id else None
