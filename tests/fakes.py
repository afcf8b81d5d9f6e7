"""In-memory fakes of the ports, for unit tests. tests/integration/test_repository_contract.py runs
the same contract against these and the DynamoDB adapters, so the fakes cannot drift."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from certpush.errors import (
    AlreadyImportedError,
    CertificateNotFoundError,
    InvalidQueryError,
    PushError,
    PushInProgressError,
    RecordsInUseError,
    StalePushError,
    TransientDependencyError,
)
from certpush.logic.record_rules import (
    ACTIVE,
    binding_claimable,
    binding_lease_mine,
    check_claimable,
    forget_refusal,
    holds_claim,
    may_be_replaced,
    may_finish,
    may_reject_over,
    may_retract,
    may_start,
    moves_binding,
    record_claimable,
    replaced,
)
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
    UploadAction,
    UploadResult,
)
from certpush.models.events import (
    CertificateExpiringDetail,
    CertificateIssuedDetail,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)
from certpush.models.messages import DeadLetter, PushMessage
from certpush.ports import RecordsRepository


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
        latest = max((v for (cid, v) in self.versions if cid == metadata.certificate_id), default=0)
        digest = metadata.material_digest
        if latest and digest is not None and self.versions[(metadata.certificate_id, latest)].material_digest == digest:
            raise AlreadyImportedError(latest)
        version = latest + 1
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
    """certpush.ports.RecordsRepository in memory, rule for rule (the contract suite runs on both)."""

    def __init__(self) -> None:
        self.current: dict[tuple[str, int, TargetKey], PushRecord] = {}
        self.history_items: list[PushRecord] = []
        self.bindings: dict[tuple[str, TargetKey], Binding] = {}
        self.issuances: dict[str, _Issuance] = {}
        self.outcome_writes = 0  # note_finals calls: one per issuance per notifier batch
        self.claims = 0  # claim writes tried (as DynamoDB's TransactWriteItems would be)
        self.lease_extensions = 0  # extend_lease calls that held (heartbeats)
        self.extended = threading.Event()  # set by each of them: tests wait on it

    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None:
        return self.current.get((certificate_id, version, target))

    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        key = (record.certificate_id, record.version, record.target)
        if not may_start(self.current.get(key), record, force=force):
            return False
        self.current[key] = record
        return True

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        return [self.start_push(record, force=force) for record in records]

    def push_states(self, pushes: Sequence[tuple[str, int, TargetKey]]) -> dict[tuple[str, int, TargetKey], PushState]:
        return {
            (cid, version, target): PushState(
                record=self.current.get((cid, version, target)), binding=self.bindings.get((cid, target))
            )
            for cid, version, target in pushes
        }

    def binding(self, certificate_id: str, target: TargetKey) -> Binding | None:
        return self.bindings.get((certificate_id, target))

    def claim(self, state: PushState, now: datetime, lease_seconds: int) -> PushState:
        if state.record is None:
            raise StalePushError("?")
        push_id = state.record.push_id
        for _ in range(3):
            record = check_claimable(state, push_id, now)
            key = (record.certificate_id, record.version, record.target)
            self.claims += 1
            existing = self.current.get(key)
            binding = self.bindings.get((record.certificate_id, record.target))
            seen_version = state.binding.version if state.binding else None
            if not (
                record_claimable(existing, push_id, record.attempts, now)
                and binding_claimable(binding, seen_version, now)
            ):
                state = self.push_states([key])[key]  # one read tells why, or claim on what it read
                continue
            assert existing is not None
            token, until = str(uuid.uuid4()), now + timedelta(seconds=lease_seconds)
            claimed = existing.model_copy(
                update={
                    "status": PushStatus.IN_PROGRESS,
                    "attempts": existing.attempts + 1,
                    "updated_at": now,
                    "lease_token": token,
                    "lease_until": until,
                    "settle_until": None,
                }
            )
            self.current[key] = claimed
            leased = (binding or Binding()).model_copy(
                update={"lease_token": token, "lease_until": until, "settle_until": None}
            )
            self.bindings[(record.certificate_id, record.target)] = leased
            return PushState(record=claimed, binding=leased)
        raise PushInProgressError(push_id)

    def _holds(self, record: PushRecord) -> bool:
        return holds_claim(self.current.get((record.certificate_id, record.version, record.target)), record)

    def _give_back(self, record: PushRecord, settle_until: datetime | None = None) -> bool:
        """The binding's lease back (with a settle wait, when given); False when another claim holds it."""
        key = (record.certificate_id, record.target)
        binding = self.bindings.get(key)
        if not binding_lease_mine(binding, record):
            return False
        if binding is not None and (binding.lease_token is not None or settle_until is not None):
            changes: dict[str, object] = {"lease_token": None, "lease_until": None}
            if settle_until is not None:
                changes["settle_until"] = settle_until
            self.bindings[key] = binding.model_copy(update=changes)
        return True

    def extend_lease(self, record: PushRecord, until: datetime) -> bool:
        key = (record.certificate_id, record.version, record.target)
        binding = self.bindings.get((record.certificate_id, record.target))
        if not self._holds(record) or binding is None or binding.lease_token != record.lease_token:
            return False
        self.current[key] = self.current[key].model_copy(update={"lease_until": until})
        self.bindings[(record.certificate_id, record.target)] = binding.model_copy(update={"lease_until": until})
        self.lease_extensions += 1
        self.extended.set()
        return True

    def note_error(self, record: PushRecord, *, refund_attempt: bool = False) -> bool:
        key = (record.certificate_id, record.version, record.target)
        binding = self.bindings.get((record.certificate_id, record.target))
        if not self._holds(record) or not binding_lease_mine(binding, record):
            return False
        self._give_back(record, record.settle_until)
        changes: dict[str, object] = {
            "reason": record.reason,
            "message": record.message,
            "updated_at": record.updated_at,
            "lease_token": None,
            "lease_until": None,
        }
        if record.settle_until is not None:
            changes["settle_until"] = record.settle_until
        if record.last_look:
            changes["last_look"] = True
        if refund_attempt:
            changes["attempts"] = max(0, record.attempts - 1)
        if record.target_id and record.upload_action:
            changes |= {"target_id": record.target_id, "upload_action": record.upload_action}
        self.current[key] = self.current[key].model_copy(update=changes)
        return True

    def finish(self, record: PushRecord, *, replacing: int | None = None) -> bool:
        key = (record.certificate_id, record.version, record.target)
        binding_key = (record.certificate_id, record.target)
        binding = self.bindings.get(binding_key)
        if not may_finish(self.current.get(key), binding, record):
            return False
        final = record.model_copy(update={"lease_token": None, "lease_until": None, "settle_until": None})
        self.current[key] = final
        self.history_items.append(final)
        if record.lease_token is None:
            return True
        if moves_binding(record):
            self.bindings[binding_key] = Binding(target_id=record.target_id, version=record.version)
        else:
            self._give_back(record)
        earlier = self.current.get((record.certificate_id, replacing, record.target)) if replacing else None
        if earlier is not None and may_be_replaced(earlier, record):
            self.current[(record.certificate_id, earlier.version, record.target)] = replaced(earlier, final)
        return True

    def record_retraction(self, record: PushRecord) -> bool:
        key = (record.certificate_id, record.version, record.target)
        if not may_retract(self.current.get(key), record):
            return False
        retracted = record.model_copy(update={"status": PushStatus.RETRACTED})
        self.current[key] = retracted
        self.history_items.append(retracted)
        binding = self.bindings.get((record.certificate_id, record.target))
        if binding is not None and binding.target_id == record.target_id:
            del self.bindings[(record.certificate_id, record.target)]
        return True

    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        key = (record.certificate_id, record.version, record.target)
        if not keep_current and may_reject_over(self.current.get(key)):
            self.current[key] = record
        self.history_items.append(record)

    def forget(self, certificate_id: str, target: TargetKey) -> int:
        mine = [k for k in self.current if k[0] == certificate_id and k[2] == target]
        binding = self.bindings.get((certificate_id, target))
        why = forget_refusal([self.current[k] for k in mine], binding, datetime.now(UTC))
        if why is not None:
            raise RecordsInUseError(str(target), why)
        for key in mine:
            del self.current[key]
        self.history_items = [
            r for r in self.history_items if not (r.certificate_id == certificate_id and r.target == target)
        ]
        self.bindings.pop((certificate_id, target), None)
        return len(mine)

    def list_current(self, certificate_id: str) -> list[PushRecord]:
        return [r for (cid, _, _), r in self.current.items() if cid == certificate_id]

    def history(self, certificate_id: str, limit: int = 10) -> list[PushRecord]:
        mine = [r for r in self.history_items if r.certificate_id == certificate_id]
        return sorted(mine, key=lambda r: r.updated_at, reverse=True)[:limit]

    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]:
        found = [r for r in self.current.values() if r.status is status]
        return sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]

    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        return [r for r in self.current.values() if r.status in ACTIVE and r.updated_at < cutoff]

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
    """A push target whose answers are scripted: queues of errors to raise (``errors`` on upload,
    ``attach_errors`` on attach) before succeeding. Like a real target it keeps one certificate per
    (certificate id, version, region), and renews in place the certificate ``previous_target_id``
    names: ``stored`` says which version each certificate in it holds."""

    def __init__(self, provider: str = "aws", service: str = "elb", errors: Sequence[PushError] = ()) -> None:
        self.provider = provider
        self.service = service
        self.errors = list(errors)
        self.attach_errors: list[PushError] = []
        self.calls: list[PushRequest] = []  # uploads
        self.attach_calls: list[tuple[PushRequest, str]] = []
        self.stored: dict[str, tuple[str, int, str]] = {}  # target id -> (certificate id, version, region)
        self.attachments: dict[str, list[str]] = {}  # target id -> references it is attached to
        self.users: dict[str, list[str]] = {}  # target id -> what uses it
        self.retracted: list[str] = []
        self.during_upload: Callable[[PushRequest], None] | None = None
        self.renews_in_place = True
        self.finds: list[PushRequest] = []
        self.find_errors: list[PushError] = []
        self._ids = itertools.count(1)

    def upload(self, request: PushRequest) -> UploadResult:
        self.calls.append(request)
        if self.during_upload is not None:
            self.during_upload(request)
        if self.errors:
            raise self.errors.pop(0)
        wanted = (request.certificate.certificate_id, request.certificate.version, request.region)
        held = self._holding(request)
        if held is not None:
            return UploadResult(target_id=held, action=UploadAction.REUSED, detail="reused")
        previous = request.previous_target_id
        if previous is not None and previous in self.stored and self.renews_in_place:
            self.stored[previous] = wanted
            return UploadResult(target_id=previous, action=UploadAction.RENEWED_IN_PLACE, detail="renewed in place")
        target_id = f"{self.provider}-{self.service}-{request.region}-{next(self._ids)}"
        self.stored[target_id] = wanted
        return UploadResult(target_id=target_id, action=UploadAction.CREATED, detail="created")

    def find(self, request: PushRequest) -> UploadResult | None:
        """What upload would find, making nothing."""
        self.finds.append(request)
        if self.find_errors:
            raise self.find_errors.pop(0)
        held = self._holding(request)
        return UploadResult(target_id=held, action=UploadAction.REUSED, detail="found") if held is not None else None

    def _holding(self, request: PushRequest) -> str | None:
        """The certificate of the target that holds the request's version in its region, if any."""
        wanted = (request.certificate.certificate_id, request.certificate.version, request.region)
        return next((target_id for target_id, held in self.stored.items() if held == wanted), None)

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        self.attach_calls.append((request, target_id))
        if self.attach_errors:
            raise self.attach_errors.pop(0)
        wanted = [*request.options.attach, *request.options.attach_default]
        attached = self.attachments.setdefault(target_id, [])
        attached.extend(ref for ref in wanted if ref not in attached)
        return AttachResult(attached=wanted, detail=f"attached to {len(wanted)}" if wanted else None)

    def version_held(self, certificate_id: str, region: str) -> list[int]:
        """The versions of the certificate the target holds in the region, one per certificate there."""
        return sorted(v for cid, v, r in self.stored.values() if (cid, r) == (certificate_id, region))

    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        return list(self.users.get(target_id, []))

    def retract(self, region: str, target_id: str) -> None:
        self.retracted.append(target_id)
        self.stored.pop(target_id, None)

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return f"https://console.example/{self.provider}/{self.service}?region={region}#{target_id or ''}"


class RecordingPublisher:
    """Records what was published. Inside ``batched()`` events are held and published when the
    block ends, as the EventBridge publisher sends them; ``refuse_batches`` makes those sends fail."""

    def __init__(self) -> None:
        self.pushed_events: list[CertificatePushedDetail] = []
        self.summaries: list[IssuanceSummaryDetail] = []
        self.expiring: list[CertificateExpiringDetail] = []
        self.issued: list[CertificateIssuedDetail] = []
        self.refuse_batches = 0
        self._held: list[CertificatePushedDetail | IssuanceSummaryDetail] | None = None

    def certificate_issued(self, detail: CertificateIssuedDetail) -> str:
        self.issued.append(detail)
        return f"event-{len(self.issued)}"

    def certificate_pushed(self, detail: CertificatePushedDetail) -> None:
        self._publish(detail)

    def issuance_summary(self, detail: IssuanceSummaryDetail) -> None:
        self._publish(detail)

    def _publish(self, detail: CertificatePushedDetail | IssuanceSummaryDetail) -> None:
        if self._held is not None:
            self._held.append(detail)
        elif isinstance(detail, CertificatePushedDetail):
            self.pushed_events.append(detail)
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

    def heads(self, status: PushStatus) -> list[RecordHead]:
        return [RecordHead.of(r) for r in self._records.current.values() if r.status is status]


def claim_push(
    repository: RecordsRepository, record: PushRecord, lease_seconds: int = 60, now: datetime | None = None
) -> PushRecord:
    """Claims ``record``'s push at ``now`` (default: the record's ``updated_at``) as a worker that holds
    this copy of the record does: with the target's binding read now. Returns the claimed record."""
    key = (record.certificate_id, record.version, record.target)
    binding = repository.push_states([key])[key].binding
    claimed = repository.claim(PushState(record=record, binding=binding), now or record.updated_at, lease_seconds)
    assert claimed.record is not None
    return claimed.record


class InMemoryReplayLog:
    """``ReplayLog``: what the validator did with each issuance of a replay."""

    def __init__(self) -> None:
        self.noted: dict[tuple[str, str], ReplayReport] = {}

    def note(self, report: ReplayReport) -> None:
        self.noted[(report.replay_name, report.issuance_id)] = report

    def reports(self, replay_name: str) -> list[ReplayReport]:
        return [r for (name, _), r in self.noted.items() if name == replay_name]


@dataclass
class RecordingRateLimiter:
    """A ``RateLimiter`` that paces nothing: it records each call asked for and each hold-off."""

    calls: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    holds: list[tuple[str, str, str | None, str, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, provider: str, service: str, operation: str | None, region: str) -> float:
        with self._lock:
            self.calls.append((provider, service, operation, region))
        return 0.0

    def hold_off(self, provider: str, service: str, operation: str | None, region: str, seconds: float) -> None:
        with self._lock:
            self.holds.append((provider, service, operation, region, seconds))
