"""Ports: the small interfaces the domain needs. Adapters implement them with boto3 or httpx;
unit tests implement them with in-memory fakes (tests/fakes.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools.metrics import MetricUnit

from certpush.logic.certificate_rules import TargetCertificateRules
from certpush.models.domain import (
    AttachResult,
    Binding,
    CertificateMaterial,
    CertificateStatus,
    CertificateVersion,
    Issuance,
    IssuanceProgress,
    PushPolicy,
    PushQuery,
    PushRecord,
    PushRecordsPage,
    PushRequest,
    PushState,
    PushStatus,
    RecordHead,
    ReplayReport,
    TargetKey,
    UploadResult,
)
from certpush.models.events import (
    CertificateExpiringDetail,
    CertificateIssuedDetail,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)
from certpush.models.messages import DeadLetter, PushMessage


class Clock(Protocol):
    def now(self) -> datetime: ...


class CertificateStore(Protocol):
    """Inventory: metadata in a table, material (with the private key) in a secret."""

    def get_version(self, certificate_id: str, version: int | None = None) -> CertificateVersion:
        """The given version, or the latest one. Raises CertificateNotFoundError."""
        ...

    def get_material(self, certificate: CertificateVersion) -> CertificateMaterial: ...

    def get_versions(self, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], CertificateVersion]:
        """Many versions at once (one batch read); the missing ones are left out."""
        ...

    def put_version(self, metadata: CertificateVersion, material: CertificateMaterial) -> CertificateVersion:
        """Stores a new version (``metadata.version`` is assigned here) and returns it, in one
        conditional step: when the latest version holds the same material (``material_digest``),
        even one another import stored a moment ago, nothing is stored (no version, no secret left
        behind) and AlreadyImportedError names that version."""
        ...

    def list_versions(self, certificate_id: str) -> list[CertificateVersion]: ...

    def list_certificates(self) -> list[CertificateVersion]:
        """Latest version of every certificate."""
        ...

    def set_status(self, certificate_id: str, version: int, status: CertificateStatus) -> None: ...


class PolicyStore(Protocol):
    def list_policies(self) -> list[PushPolicy]: ...

    def put_policy(self, policy: PushPolicy) -> None: ...

    def delete_policy(self, name: str) -> bool: ...


# -- the records of pushes, by role -----------------------------------------------------------------
# Each caller is typed with the role it uses (issue 21: ports by role); the adapters (DynamoDB, the
# host's SQLite, the tests' fake) implement RecordsRepository, the union of the roles.
# tests/integration/test_repository_contract.py holds every implementation to these docstrings.
class RecordQueries(Protocol):
    """Reads of the records: current states, history, bindings, issuances (dashboards, the CLI, expiry)."""

    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None: ...

    def list_current(self, certificate_id: str) -> list[PushRecord]: ...

    def history(self, certificate_id: str, limit: int = 10) -> list[PushRecord]: ...

    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]: ...

    def binding(self, certificate_id: str, target: TargetKey) -> Binding | None:
        """What the target holds of the certificate (id and version), from the last live push."""
        ...

    def get_issuance(self, issuance_id: str) -> IssuanceProgress | None: ...


class PushStates(Protocol):
    """A batch of pushes read with their targets' bindings (the validator, the push worker)."""

    def push_states(self, pushes: Sequence[tuple[str, int, TargetKey]]) -> dict[tuple[str, int, TargetKey], PushState]:
        """The record of each (certificate id, version, target) and the binding of its (certificate,
        target), read consistently in one batch read for the whole batch of pushes. Every key asked
        for is in the answer (``record`` / ``binding`` None when there is none)."""
        ...


class PushFinish(Protocol):
    """Writing a push's final state (the push worker with its claim, the sweeper without one)."""

    def finish(self, record: PushRecord, *, replacing: int | None = None) -> bool:
        """Writes a final state and appends it to the history, once per push, in one transaction.

        With ``record.lease_token``: only while the stored record is this push IN_PROGRESS under that
        token; the binding's lease is given back, and a live outcome (SUCCEEDED, ATTACH_FAILED with a
        ``target_id``) moves the binding to (``target_id``, ``version``) — never backwards unless
        ``rollback``. ``replacing``: the version whose record becomes REPLACED (``replaced_by`` this
        version, reason REPLACED_BY) in the same transaction, if that record is live and names the
        same ``target_id``. Without a token (the sweeper, a SUPERSEDED push that never held a lease):
        only while the push is PENDING, or IN_PROGRESS with no lease and no settle wait running at
        ``record.updated_at``; the binding is left alone. Returns False when nothing was written."""
        ...


class PushIntake(RecordQueries, PushStates, Protocol):
    """What the validator writes: the PENDING records of an issuance (or its rejections) and the issuance."""

    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        """Writes a PENDING record unless a push of that target is pending, in progress or (without
        ``force``) succeeded, or this very push (same push id) was written before. A FAILED, REJECTED,
        RETRACTED, SUPERSEDED, REPLACED or ATTACH_FAILED record gives way. Returns False when the
        conditional write lost."""
        ...

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        """``start_push`` for many records in as few calls as the store allows; one bool each."""
        ...

    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        """A REJECTED push. With ``keep_current`` only the history gets it (e.g. ALREADY_PUSHED)."""
        ...

    def put_issuance(self, issuance: Issuance) -> None: ...


class PushLifecycle(PushStates, PushFinish, Protocol):
    """The lifecycle of one push (the push worker): ``start_push`` (PushIntake) writes it PENDING;
    ``push_states`` reads it with its binding; ``claim`` makes it IN_PROGRESS under a lease on the record
    and on the binding of its (certificate, target) at once; ``extend_lease`` keeps the lease while the
    target call runs; then ``finish`` (final) or ``note_error`` (a transient error: the leases are given
    back). ``finish``, ``note_error`` and ``extend_lease`` write only while the record still carries the
    claim's ``lease_token``: a worker that lost its lease writes nothing.

    The binding says which certificate id the target holds and which version: it only moves forward
    (``claim`` refuses an older version unless the record is a ``rollback``) and only ``finish`` of a
    live outcome (SUCCEEDED, ATTACH_FAILED) moves it.

    The settle wait: ``note_error`` of an ambiguous error (a request the target may still carry out)
    writes ``settle_until`` on the record and on the binding, and ``claim`` refuses every push of the
    certificate to that target before then (PushSettlingError), whichever delivery asks. The rules are
    ``certpush.logic.record_rules``, shared by every implementation."""

    def claim(self, state: PushState, now: datetime, lease_seconds: int) -> PushState:
        """Claims the push of ``state.record`` (as read, with ``state.binding``) until ``now +
        lease_seconds`` and counts one attempt, in one atomic write of two conditional updates:

        - the record: same push id, ``attempts`` as read, and PENDING or IN_PROGRESS whose lease has
          run out (or was given back), no settle wait running; it becomes IN_PROGRESS with a new
          ``lease_token``, ``attempts`` + 1 and ``updated_at`` = ``now`` (its settle wait cleared);
        - the binding (created when missing): no lease or one that ran out, no settle wait running, and
          the version as read; its lease takes the same token and end.

        Returns the claimed state (the record with its ``lease_token``). When ``state`` was out of
        date, one read tells why and the claim is tried again on what it read. Raises
        PushSettlingError while a settle wait (``settle_until``) runs on the record or on the binding
        (nothing written: no attempt counted), SupersededPushError when the binding holds a newer
        version and the record is no ``rollback`` (nothing written), PushInProgressError while another
        lease runs on the record or the binding, StalePushError when the push is final, gone or another
        push."""
        ...

    def extend_lease(self, record: PushRecord, until: datetime) -> bool:
        """Moves the end of the claim's lease (record and binding) to ``until`` while the record still
        carries ``record.lease_token``. False when the lease was lost (nothing written)."""
        ...

    def note_error(self, record: PushRecord, *, refund_attempt: bool = False) -> bool:
        """Keeps the last transient error (``reason``, ``message``) and the upload fact if there is one
        (``target_id``, ``upload_action``) on the in-progress record and gives both leases back, while
        the record carries ``record.lease_token``. False when the lease was lost (nothing written).
        ``record.settle_until`` (an ambiguous error): written on the record and on the binding; no
        claim of a push of the certificate to that target before then.
        ``refund_attempt``: the attempt the claim counted is taken back (``attempts`` = ``record.attempts``
        - 1): the target throttled it, which is no failure of the push."""
        ...


class StuckPushes(PushFinish, Protocol):
    """What the sweeper reads and counts (it ends a push with ``finish``, without a claim)."""

    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        """PENDING and IN_PROGRESS records last changed before ``cutoff`` (what the sweeper looks at)."""
        ...

    def note_swept(self, record: PushRecord, now: datetime) -> bool:
        """Counts a re-queue of ``record`` unless it changed since it was read. False when it did."""
        ...


class IssuanceTracking(Protocol):
    """The outcomes of an issuance's targets and its summary (the notifier)."""

    def note_finals(self, issuance_id: str, outcomes: Mapping[TargetKey, str]) -> IssuanceSummaryDetail | None:
        """Marks targets of one issuance final with their outcomes (a final PushStatus, or
        ALREADY_PUSHED), in one write; idempotent. Returns the summary once every target is final, until
        ``mark_summary_sent``: a summary is published at least once (consumers dedupe by issuance id)."""
        ...

    def mark_summary_sent(self, issuance_id: str) -> None:
        """After the summary was published: later deliveries of the same change publish nothing."""
        ...


class RecordUpkeep(RecordQueries, Protocol):
    """The operator's changes to the records: retractions and forgetting targets that hold nothing."""

    def record_retraction(self, record: PushRecord) -> bool:
        """A live push (SUCCEEDED, ATTACH_FAILED) whose certificate certpush deleted: the current state
        becomes RETRACTED, the history gets it and the target's binding goes if it named that
        certificate. False when the record was no longer that live push."""
        ...

    def forget(self, certificate_id: str, target: TargetKey) -> int:
        """Deletes everything the records say of one target of a certificate: its current record of
        every version, their history and its binding; never what the target holds. Only records of
        nothing there may go: raises RecordsInUseError (nothing deleted) while a push of it is PENDING
        or IN_PROGRESS, or a record is live (SUCCEEDED, ATTACH_FAILED), or the binding names a
        certificate or holds a running lease (``certpush retract`` first). Returns how many current
        records went (0: the target had none)."""
        ...


class ReplayRecords(RecordQueries, PushFinish, Protocol):
    """What ``certpush push`` / ``replay`` read, and ``replay --stuck-since`` ends (``finish`` without a claim)."""


class RecordsRepository(
    PushIntake, PushLifecycle, StuckPushes, IssuanceTracking, RecordUpkeep, ReplayRecords, Protocol
):
    """The records of pushes, their history, the bindings of targets and the issuances: every role
    above, as the adapters implement it (DynamoDB, the host's SQLite, the tests' fake). Callers take
    the narrowest role they use."""


class ReplayLog(Protocol):
    """What the validator did with each issuance of an event replay (EventBridge StartReplay), for
    ``certpush replay --events`` to print."""

    def note(self, report: ReplayReport) -> None: ...

    def reports(self, replay_name: str) -> list[ReplayReport]:
        """Every issuance the replay has sent through the validator so far."""
        ...


class PushQueue(Protocol):
    def send(self, messages: Sequence[PushMessage]) -> None:
        """Sends every message or raises; never drops one silently."""
        ...


class DeadLetterQueue(Protocol):
    """The push queue's dead-letter queue."""

    def receive(self, max_messages: int, hide_seconds: int) -> list[DeadLetter]:
        """Up to ``max_messages`` (at most 10) letters, hidden from other readers for ``hide_seconds``."""
        ...

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Makes received letters visible again at once."""
        ...

    def delete(self, letter: DeadLetter) -> None: ...


class RedriveQueue(Protocol):
    """The queue dead letters go back to."""

    def send_bodies(self, bodies: Sequence[str]) -> set[int]:
        """Sends message bodies as they are (at most 10); returns the indexes the queue accepted."""
        ...


class RetryScheduler(Protocol):
    """Brings a queue message back after ``seconds`` (the backoff of a transient failure)."""

    def retry_later(self, receipt_handle: str, seconds: int) -> None: ...


class RateLimiter(Protocol):
    """Paces the calls to the targets' APIs under their request quotas (``certpush.logic.rate_limits``).
    Provider clients call it before each request they send (the SDK's own retries included)."""

    def acquire(self, provider: str, service: str, operation: str | None, region: str) -> float:
        """Blocks until one call of ``operation`` of ``service`` in ``region`` fits under its quota (at once
        when none is declared); returns the seconds waited."""
        ...

    def hold_off(self, provider: str, service: str, operation: str | None, region: str, seconds: float) -> None:
        """The target throttled a call anyway (``Retry-After``): no call of that budget for ``seconds``."""
        ...


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None: ...


class PushTarget(Protocol):
    """A service that stores certificates: AWS ELB (ACM), Huawei Cloud WAF, Huawei Cloud ELB...

    A push is two steps, each recorded: ``upload`` puts the certificate version into the target's
    store, ``attach`` binds it to the references of ``request.options`` (listeners, protected hosts,
    distributions, accelerated domains). Both are idempotent for one (certificate id, version,
    region): a retry after a crash or a duplicated message finds what an earlier attempt made
    instead of creating a second one. Both raise TransientPushError or PermanentPushError.
    """

    provider: str
    service: str

    def upload(self, request: PushRequest) -> UploadResult:
        """Puts the version into the target: reuses it where an earlier attempt left it, renews in place
        ``request.previous_target_id`` (the certificate the binding names: another version), or creates it."""
        ...

    def find(self, request: PushRequest) -> UploadResult | None:
        """The version's certificate as ``upload`` would find it, without making or renewing one: what an
        earlier request left there (created, or renewed in place, after its client gave up on it); None
        when the target holds no copy. The push worker's last look after an ambiguous last attempt."""
        ...

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        """Attaches the certificate ``target_id`` to the references of ``request.options`` that belong
        to the request's region; those already attached are left as they are."""
        ...

    def console_url(self, region: str, target_id: str | None = None) -> str: ...

    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """What uses the certificate ``target_id`` in the region (listeners, protected domains), as
        short descriptions; empty when nothing does or the certificate is gone. ``attached``: the
        references certpush attached it to (the records' options), which are always looked at."""
        ...

    def retract(self, region: str, target_id: str) -> str | None:
        """Deletes the certificate ``target_id``; a certificate already gone is not an error. Returns what
        was done when it is not "deleted ``target_id``" (a target that holds no certificate of its own);
        raises PermanentPushError when the target cannot remove it."""
        ...


class OfferedTarget(Protocol):
    """A service certpush pushes to, and where it is offered."""

    @property
    def provider(self) -> str: ...

    @property
    def service(self) -> str: ...

    @property
    def is_global(self) -> bool:
        """No regions: its one target is ``global``."""
        ...

    def offered_in(self, region: str) -> bool: ...

    @property
    def regions(self) -> frozenset[str] | None:
        """Every region it is offered in; None for a global service."""
        ...

    @property
    def rules(self) -> TargetCertificateRules:
        """What it takes (keys, signatures, X.509 versions, sizes): a push that breaks a rule is REJECTED."""
        ...


class TargetCatalog(Protocol):
    """Every push target certpush knows (the registry, ``certpush.providers.registry``)."""

    def find(self, provider: str, service: str) -> OfferedTarget | None: ...

    def providers(self) -> list[str]: ...

    def services(self, provider: str) -> list[str]: ...


class EventPublisher(Protocol):
    def certificate_pushed(self, detail: CertificatePushedDetail) -> None: ...

    def issuance_summary(self, detail: IssuanceSummaryDetail) -> None: ...

    def batched(self) -> AbstractContextManager[None]:
        """Events published inside go out together (fewer calls) when the block ends."""
        ...


class IssuancePublisher(Protocol):
    """Announces a certificate version to push ("Certificate Issued"): the validator takes it from there."""

    def certificate_issued(self, detail: CertificateIssuedDetail) -> str:
        """Returns the event id."""
        ...


# -- dashboards (the records API) ------------------------------------------------------------------
class PushRecordsQuery(Protocol):
    """Paginated reads of the records table's indexes (see certpush.models.items)."""

    def page(self, query: PushQuery, limit: int, cursor: str | None) -> PushRecordsPage:
        """Raises InvalidQueryError for a cursor this query did not hand out."""
        ...

    def count_by_status(self, status: PushStatus) -> int: ...

    def heads(self, status: PushStatus) -> list[RecordHead]:
        """Every current record of ``status``, only what a summary needs of it (every page)."""
        ...


class ExpiryPublisher(Protocol):
    def certificate_expiring(self, detail: CertificateExpiringDetail) -> None:
        """Emits "Certificate Expiring" (EventBridge) and tells people (SNS)."""
        ...
