"""In-memory fakes of the ports, for unit tests. tests/integration/test_repository_contract.py runs
the same contract against these and the DynamoDB adapters, so the fakes cannot drift."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from certpush.errors import (
    CertificateNotFoundError,
    InvalidQueryError,
    PushError,
    PushInProgressError,
    StalePushError,
    TransientDependencyError,
)
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

_ACTIVE = {PushStatus.PENDING, PushStatus.IN_PROGRESS}
_REPLACEABLE = {PushStatus.FAILED, PushStatus.REJECTED, PushStatus.RETRACTED}


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(microseconds=1)  # distinct, ordered timestamps
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class InMemoryCertificateStore:
    def __init__(self) -> None:
        self.versions: dict[tuple[str, int], CertificateVersion] = {}
        self.materials: dict[tuple[str, int], CertificateMaterial] = {}
        self.material_reads = 0
        self.batch_reads = 0
        self.version_reads = 0

    def get_version(self, certificate_id: str, version: int | None = None) -> CertificateVersion:
        self.version_reads += 1
        if version is None:
            known = [v for (cid, v) in self.versions if cid == certificate_id]
            if not known:
                raise CertificateNotFoundError(certificate_id)
            version = max(known)
        try:
            return self.versions[(certificate_id, version)]
        except KeyError:
            raise CertificateNotFoundError(certificate_id, version) from None

    def get_versions(self, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], CertificateVersion]:
        self.batch_reads += 1
        return {key: self.versions[key] for key in wanted if key in self.versions}

    def get_material(self, certificate: CertificateVersion) -> CertificateMaterial:
        self.material_reads += 1
        try:
            return self.materials[(certificate.certificate_id, certificate.version)]
        except KeyError:
            raise CertificateNotFoundError(certificate.certificate_id, certificate.version) from None

    def put_version(self, metadata: CertificateVersion, material: CertificateMaterial) -> CertificateVersion:
        version = 1 + max((v for (cid, v) in self.versions if cid == metadata.certificate_id), default=0)
        stored = metadata.model_copy(
            update={"version": version, "secret_id": f"fake/{metadata.certificate_id}/v{version}"}
        )
        self.versions[(stored.certificate_id, version)] = stored
        self.materials[(stored.certificate_id, version)] = material
        return stored

    def list_versions(self, certificate_id: str) -> list[CertificateVersion]:
        return sorted((v for (cid, _), v in self.versions.items() if cid == certificate_id), key=lambda v: v.version)

    def list_certificates(self) -> list[CertificateVersion]:
        ids = sorted({cid for cid, _ in self.versions})
        return [self.get_version(cid) for cid in ids]

    def set_status(self, certificate_id: str, version: int, status: CertificateStatus) -> None:
        current = self.get_version(certificate_id, version)
        self.versions[(certificate_id, version)] = current.model_copy(update={"status": status})


class InMemoryPolicyStore:
    def __init__(self, policies: Sequence[PushPolicy] = ()) -> None:
        self.policies = {p.name: p for p in policies}

    def list_policies(self) -> list[PushPolicy]:
        return list(self.policies.values())

    def put_policy(self, policy: PushPolicy) -> None:
        self.policies[policy.name] = policy

    def delete_policy(self, name: str) -> bool:
        return self.policies.pop(name, None) is not None


@dataclass
class _Issuance:
    issuance: Issuance
    outcomes: dict[str, str] = field(default_factory=dict)
    summary_sent: bool = False


class InMemoryRecordsRepository:
    def __init__(self) -> None:
        self.current: dict[tuple[str, int, TargetKey], PushRecord] = {}
        self.history_items: list[PushRecord] = []
        self.bindings: dict[tuple[str, TargetKey], str] = {}
        self.issuances: dict[str, _Issuance] = {}
        self.leases: dict[tuple[str, int, TargetKey], datetime] = {}
        self.outcome_writes = 0  # note_finals calls: one per issuance per notifier batch

    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None:
        return self.current.get((certificate_id, version, target))

    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        replaceable = _REPLACEABLE | {PushStatus.SUCCEEDED} if force else _REPLACEABLE
        if existing is not None and (existing.status not in replaceable or existing.push_id == record.push_id):
            return False
        self.current[key] = record
        return True

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        return [self.start_push(record, force=force) for record in records]

    def mark_in_progress(self, record: PushRecord, lease_seconds: int = 60) -> PushRecord:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        if existing is None or existing.push_id != record.push_id or existing.status not in _ACTIVE:
            raise StalePushError(record.push_id)
        lease = self.leases.get(key)
        if existing.status is PushStatus.IN_PROGRESS and lease is not None and lease >= record.updated_at:
            raise PushInProgressError(record.push_id)
        self.leases[key] = record.updated_at + timedelta(seconds=lease_seconds)
        updated = existing.model_copy(
            update={
                "status": PushStatus.IN_PROGRESS,
                "attempts": existing.attempts + 1,
                "updated_at": record.updated_at,
            }
        )
        self.current[key] = updated
        return updated

    def note_error(self, record: PushRecord) -> None:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        if existing and existing.push_id == record.push_id and existing.status is PushStatus.IN_PROGRESS:
            self.leases.pop(key, None)
            self.current[key] = existing.model_copy(
                update={"reason": record.reason, "message": record.message, "updated_at": record.updated_at}
            )

    def finish(self, record: PushRecord) -> bool:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        if existing is None or existing.push_id != record.push_id or existing.status not in _ACTIVE:
            return False
        self.current[key] = record
        self.history_items.append(record)
        if record.status is PushStatus.SUCCEEDED and record.target_id:
            self.bindings[(record.certificate_id, record.target)] = record.target_id
        return True

    def record_retraction(self, record: PushRecord) -> bool:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        if existing is None or existing.push_id != record.push_id or existing.status is not PushStatus.SUCCEEDED:
            return False
        retracted = record.model_copy(update={"status": PushStatus.RETRACTED})
        self.current[key] = retracted
        self.history_items.append(retracted)
        if self.bindings.get((record.certificate_id, record.target)) == record.target_id:
            del self.bindings[(record.certificate_id, record.target)]
        return True

    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        if not keep_current and (existing is None or existing.status in _REPLACEABLE):
            self.current[key] = record
        self.history_items.append(record)

    def list_current(self, certificate_id: str) -> list[PushRecord]:
        return [r for (cid, _, _), r in self.current.items() if cid == certificate_id]

    def history(self, certificate_id: str, limit: int = 10) -> list[PushRecord]:
        mine = [r for r in self.history_items if r.certificate_id == certificate_id]
        return sorted(mine, key=lambda r: r.updated_at, reverse=True)[:limit]

    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]:
        found = [r for r in self.current.values() if r.status is status]
        return sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]

    def by_target(self, target: TargetKey, limit: int = 100) -> list[PushRecord]:
        found = [r for r in self.current.values() if r.target == target]
        return sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]

    def deployed_target_id(self, certificate_id: str, target: TargetKey) -> str | None:
        return self.bindings.get((certificate_id, target))

    def deployed_target_ids(self, wanted: Sequence[tuple[str, TargetKey]]) -> dict[tuple[str, TargetKey], str]:
        return {key: self.bindings[key] for key in wanted if key in self.bindings}

    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        return [r for r in self.current.values() if r.status in _ACTIVE and r.updated_at < cutoff]

    def note_swept(self, record: PushRecord, now: datetime) -> bool:
        key = (record.certificate_id, record.version, record.target)
        existing = self.current.get(key)
        if existing is None or existing.push_id != record.push_id or existing.status is not record.status:
            return False
        if existing.updated_at != record.updated_at:
            return False
        self.current[key] = existing.model_copy(update={"updated_at": now, "sweeps": existing.sweeps + 1})
        return True

    def put_issuance(self, issuance: Issuance) -> None:
        self.issuances.setdefault(issuance.issuance_id, _Issuance(issuance))

    def get_issuance(self, issuance_id: str) -> IssuanceProgress | None:
        known = self.issuances.get(issuance_id)
        if known is None:
            return None
        return IssuanceProgress(
            issuance_id=issuance_id,
            certificate_id=known.issuance.certificate_id,
            version=known.issuance.version,
            targets=[str(t) for t in known.issuance.targets],
            outcomes=dict(known.outcomes),
        )

    def note_final(self, issuance_id: str, target: TargetKey, outcome: str) -> IssuanceSummaryDetail | None:
        return self.note_finals(issuance_id, {target: outcome})

    def note_finals(self, issuance_id: str, outcomes: Mapping[TargetKey, str]) -> IssuanceSummaryDetail | None:
        self.outcome_writes += 1
        known = self.issuances.get(issuance_id)
        if known is None:
            return None
        known.outcomes.update({str(target): str(outcome) for target, outcome in outcomes.items()})
        if len(known.outcomes) < len(known.issuance.targets) or known.summary_sent:
            return None
        return IssuanceSummaryDetail.from_outcomes(
            issuance_id, known.issuance.certificate_id, known.issuance.version, dict(known.outcomes)
        )

    def mark_summary_sent(self, issuance_id: str) -> None:
        self.issuances[issuance_id].summary_sent = True


class FakeQueue:
    """The push queue. ``accepts`` limits how many more raw bodies ``send_bodies`` takes (None: all)."""

    def __init__(self, accepts: int | None = None) -> None:
        self.messages: list[PushMessage] = []
        self.delays: dict[str, int] = {}
        self.bodies: list[str] = []
        self.accepts = accepts

    def send(self, messages: Sequence[PushMessage]) -> None:
        self.messages.extend(messages)

    def send_bodies(self, bodies: Sequence[str]) -> set[int]:
        taken = len(bodies[:10]) if self.accepts is None else min(self.accepts, len(bodies[:10]))
        if self.accepts is not None:
            self.accepts -= taken
        self.bodies.extend(bodies[:taken])
        return set(range(taken))

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        self.delays[receipt_handle] = seconds


class InMemoryDeadLetterQueue:
    """Letters are visible or hidden: receive hides them, release shows them again, delete removes them."""

    def __init__(self, bodies: Sequence[str] = ()) -> None:
        self.letters: dict[str, str] = {}
        self.hidden: set[str] = set()
        self._ids = itertools.count(1)
        for body in bodies:
            self.add(body)

    def add(self, body: str) -> None:
        self.letters[f"m-{next(self._ids)}"] = body

    def receive(self, max_messages: int, hide_seconds: int) -> list[DeadLetter]:
        visible = [i for i in self.letters if i not in self.hidden][: max(1, min(10, max_messages))]
        self.hidden.update(visible)
        return [
            DeadLetter(message_id=i, receipt_handle=f"{i}/{next(self._ids)}", body=self.letters[i]) for i in visible
        ]

    def release(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            self.hidden.discard(letter.receipt_handle.split("/")[0])

    def delete(self, letter: DeadLetter) -> None:
        message_id = letter.receipt_handle.split("/")[0]
        self.letters.pop(message_id, None)
        self.hidden.discard(message_id)


class ScriptedTarget:
    """A push target whose answers are scripted: a queue of errors to raise before succeeding.
    Like a real target it keeps one certificate per (certificate id, version, region)."""

    def __init__(self, provider: str = "aws", service: str = "elb", errors: Sequence[PushError] = ()) -> None:
        self.provider = provider
        self.service = service
        self.errors = list(errors)
        self.calls: list[PushRequest] = []
        self.stored: dict[tuple[str, int, str], str] = {}
        self.users: dict[str, list[str]] = {}  # target id -> what uses it
        self.retracted: list[str] = []

    def push(self, request: PushRequest) -> PushResult:
        self.calls.append(request)
        if self.errors:
            raise self.errors.pop(0)
        key = (request.certificate.certificate_id, request.certificate.version, request.region)
        target_id = self.stored.setdefault(
            key, f"{self.provider}-{self.service}-{request.region}-{len(self.stored) + 1}"
        )
        return PushResult(target_id=target_id, console_url=self.console_url(request.region, target_id))

    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        return list(self.users.get(target_id, []))

    def retract(self, region: str, target_id: str) -> None:
        self.retracted.append(target_id)
        self.stored = {key: value for key, value in self.stored.items() if value != target_id}

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return f"https://console.example/{self.provider}/{self.service}?region={region}#{target_id or ''}"


class RecordingPublisher:
    """Records what was published. Inside ``batched()`` events are held and published when the
    block ends, as the EventBridge publisher sends them; ``refuse_batches`` makes those sends fail."""

    def __init__(self) -> None:
        self.configure_now_events: list[ConfigureNowDetail] = []
        self.summaries: list[IssuanceSummaryDetail] = []
        self.expiring: list[CertificateExpiringDetail] = []
        self.issued: list[CertificateIssuedDetail] = []
        self.refuse_batches = 0
        self._held: list[ConfigureNowDetail | IssuanceSummaryDetail] | None = None

    def certificate_issued(self, detail: CertificateIssuedDetail) -> str:
        self.issued.append(detail)
        return f"event-{len(self.issued)}"

    def configure_now(self, detail: ConfigureNowDetail) -> None:
        self._publish(detail)

    def issuance_summary(self, detail: IssuanceSummaryDetail) -> None:
        self._publish(detail)

    def _publish(self, detail: ConfigureNowDetail | IssuanceSummaryDetail) -> None:
        if self._held is not None:
            self._held.append(detail)
        elif isinstance(detail, ConfigureNowDetail):
            self.configure_now_events.append(detail)
        else:
            self.summaries.append(detail)

    @contextmanager
    def batched(self) -> Iterator[None]:
        self._held = []
        refused = False
        try:
            yield
        finally:  # sent even when the block failed: they belong to records that were handled
            held, self._held = self._held or [], None
            refused = self.refuse_batches > 0
            if refused:
                self.refuse_batches -= 1
            else:
                for detail in held:
                    self._publish(detail)
        if refused:
            raise TransientDependencyError("ServiceUnavailable", "events: put_events")

    def certificate_expiring(self, detail: CertificateExpiringDetail) -> None:
        self.expiring.append(detail)


class InMemoryPushQuery:
    """certpush.ports.PushRecordsQuery over an InMemoryRecordsRepository's current records (one page)."""

    def __init__(self, records: InMemoryRecordsRepository) -> None:
        self._records = records

    def page(self, query: PushQuery, limit: int, cursor: str | None) -> PushRecordsPage:
        """Its position is an offset: whatever a client sends here, the Dashboard has verified it."""
        if cursor is not None and not cursor.isdigit():
            raise InvalidQueryError("cursor is not one this API handed out")
        start = int(cursor or 0)
        found = [
            r for r in self._records.current.values()
            if all(getattr(query, f) in (None, getattr(r, f)) for f in ("status", "provider", "service", "region"))
        ]  # fmt: skip
        found.sort(key=lambda r: (r.updated_at, r.push_id), reverse=True)
        following = str(start + limit) if start + limit < len(found) else None
        return PushRecordsPage(
            records=found[start : start + limit], index="ByStatus" if query.status else "ByDay", cursor=following
        )

    def count_by_status(self, status: PushStatus) -> int:
        return sum(1 for r in self._records.current.values() if r.status is status)
