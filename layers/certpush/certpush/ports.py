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
    PushResult,
    PushStatus,
    TargetKey,
)
from certpush.models.events import (
    CertificateExpiringDetail,
    CertificateIssuedDetail,
    ConfigureNowDetail,
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
        """Stores a new version (``metadata.version`` is assigned here) and returns it."""
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


class RecordsRepository(Protocol):
    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None: ...

    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        """Writes a PENDING record unless a push of that target is pending, in progress or (without
        ``force``) succeeded, or this very push (same push id) was written before. Returns False
        when the conditional write lost."""
        ...

    def record_retraction(self, record: PushRecord) -> bool:
        """A SUCCEEDED push whose certificate certpush deleted: the current state becomes RETRACTED, the
        history gets it and the target's binding goes if it named that certificate. False when the
        record was no longer that SUCCEEDED push."""
        ...

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        """``start_push`` for many records in as few calls as the store allows; one bool each."""
        ...

    def mark_in_progress(self, record: PushRecord, lease_seconds: int = 60) -> PushRecord:
        """Claims the push for ``lease_seconds`` from ``record.updated_at`` and counts an attempt.
        Raises StalePushError when the push is final or superseded, PushInProgressError while
        another invocation's lease runs (one conditional write: the push runs once at a time)."""
        ...

    def finish(self, record: PushRecord) -> bool:
        """Writes a final state (SUCCEEDED / FAILED) and appends it to the history, once per push.
        Returns False when the push was already final."""
        ...

    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        """A REJECTED push. With ``keep_current`` only the history gets it (e.g. ALREADY_PUSHED)."""
        ...

    def list_current(self, certificate_id: str) -> list[PushRecord]: ...

    def history(self, certificate_id: str, limit: int = 10) -> list[PushRecord]: ...

    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]: ...

    def by_target(self, target: TargetKey, limit: int = 100) -> list[PushRecord]: ...

    def deployed_target_id(self, certificate_id: str, target: TargetKey) -> str | None:
        """id of this certificate (any version) in the target, from the last SUCCEEDED push."""
        ...

    def deployed_target_ids(self, wanted: Sequence[tuple[str, TargetKey]]) -> dict[tuple[str, TargetKey], str]:
        """``deployed_target_id`` of many (certificate id, target) at once (one batch read)."""
        ...

    def note_error(self, record: PushRecord) -> None:
        """Keeps the last transient error on an in-progress record and releases its lease."""
        ...

    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        """PENDING and IN_PROGRESS records last changed before ``cutoff`` (what the sweeper looks at)."""
        ...

    def note_swept(self, record: PushRecord, now: datetime) -> bool:
        """Counts a re-queue of ``record`` unless it changed since it was read. False when it did."""
        ...

    def put_issuance(self, issuance: Issuance) -> None: ...

    def get_issuance(self, issuance_id: str) -> IssuanceProgress | None: ...

    def note_final(self, issuance_id: str, target: TargetKey, outcome: str) -> IssuanceSummaryDetail | None:
        """Marks one target of an issuance final with its outcome (a final PushStatus, or
        ALREADY_PUSHED); idempotent. Returns the summary once every target is final, until
        ``mark_summary_sent``: a summary is published at least once (consumers dedupe by issuance id)."""
        ...

    def note_finals(self, issuance_id: str, outcomes: Mapping[TargetKey, str]) -> IssuanceSummaryDetail | None:
        """``note_final`` for several targets of one issuance, in one write."""
        ...

    def mark_summary_sent(self, issuance_id: str) -> None:
        """After the summary was published: later deliveries of the same change publish nothing."""
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


class MetricsSink(Protocol):
    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None: ...


class PushTarget(Protocol):
    """A service that stores certificates: AWS ELB (ACM), Huawei Cloud WAF, Huawei Cloud ELB...

    ``push`` must be idempotent for one (certificate id, version, region): a retry after a crash or
    a duplicated message finds what an earlier attempt made instead of creating a second one.
    Raises TransientPushError or PermanentPushError.
    """

    provider: str
    service: str

    def push(self, request: PushRequest) -> PushResult: ...

    def console_url(self, region: str, target_id: str | None = None) -> str: ...

    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """What uses the certificate ``target_id`` in the region (listeners, protected domains), as
        short descriptions; empty when nothing does or the certificate is gone. ``attached``: the
        references certpush attached it to (the records' options), which are always looked at."""
        ...

    def retract(self, region: str, target_id: str) -> None:
        """Deletes the certificate ``target_id``; a certificate already gone is not an error."""
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
    def rules(self) -> TargetCertificateRules:
        """What it takes (keys, signatures, X.509 versions, sizes): a push that breaks a rule is REJECTED."""
        ...


class TargetCatalog(Protocol):
    """Every push target certpush knows (the registry, ``certpush.providers.registry``)."""

    def find(self, provider: str, service: str) -> OfferedTarget | None: ...

    def providers(self) -> list[str]: ...

    def services(self, provider: str) -> list[str]: ...


class EventPublisher(Protocol):
    def configure_now(self, detail: ConfigureNowDetail) -> None: ...

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


class ExpiryPublisher(Protocol):
    def certificate_expiring(self, detail: CertificateExpiringDetail) -> None:
        """Emits "Certificate Expiring" (EventBridge) and tells people (SNS)."""
        ...
