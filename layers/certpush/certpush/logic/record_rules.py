"""The rules of a push's record and of its target's binding, in one place: every records repository
(DynamoDB, the one-machine host's SQLite, the in-memory fake of the tests) decides with these, so the
contract suite (tests/integration/test_repository_contract.py) tests the rule itself. DynamoDB states
them as ConditionExpressions built from the same status sets; the others call the predicates inside
their transaction.

A push is claimed with a lease on its record and on the binding of its (certificate, target), so
pushes of one certificate to one target run one at a time across versions, and the target's version
only moves forward: an older version than the binding's ends SUPERSEDED unless it is a rollback.

The settle ("not before"): after an ambiguous error (a request the target may still carry out: a
timeout, a dropped answer), ``note_error`` writes ``settle_until`` on the record and on the binding.
No claim of that push, nor of any push of the certificate to that target, is made before then
(PushSettlingError: the message comes back for the rest of the wait, no attempt counted), whichever
delivery of whichever message asks. The retry after it looks for what the ambiguous attempt made
before it creates anything (the adapters look first, always: by tags in ACM, by name in Huawei Cloud)."""

from __future__ import annotations

import math
from datetime import datetime

from certpush.errors import PushInProgressError, PushSettlingError, StalePushError, SupersededPushError
from certpush.models.domain import Binding, PushRecord, PushState, PushStatus

REPLACED_BY = "REPLACED_BY"
"""Reason of a REPLACED record: a later push renewed its certificate in place (``replaced_by``)."""
NEWER_VERSION = "NEWER_VERSION"
"""Reason of a SUPERSEDED record: the target holds a newer version."""

# -- the status sets -------------------------------------------------------------------------------
ACTIVE: frozenset[PushStatus] = frozenset(status for status in PushStatus if not status.is_final)
"""In flight: a push of the target is pending or running (the sweeper looks at these)."""
LIVE: frozenset[PushStatus] = frozenset(status for status in PushStatus if status.is_live)
"""The target holds the version as the push left it (a retraction, a REPLACED record start from these)."""
REPLACEABLE: frozenset[PushStatus] = frozenset(
    {
        PushStatus.FAILED,
        PushStatus.REJECTED,
        PushStatus.RETRACTED,
        PushStatus.SUPERSEDED,
        PushStatus.REPLACED,
        PushStatus.ATTACH_FAILED,
    }
)
"""A new push (or a rejection) may take the place of a record in these; with ``--force``, of a SUCCEEDED one too."""


def replaceable(force: bool) -> frozenset[PushStatus]:
    """The statuses a new push may take the place of."""
    return REPLACEABLE | {PushStatus.SUCCEEDED} if force else REPLACEABLE


def status_values(statuses: frozenset[PushStatus]) -> list[str]:
    """A status set as stored values, in a stable order (for a DynamoDB condition's ``IN``)."""
    return sorted(status.value for status in statuses)


# -- the predicates --------------------------------------------------------------------------------
def lease_runs(token: str | None, until: datetime | None, now: datetime) -> bool:
    """A lease is held at ``now`` until its end (inclusive); a given-back lease has neither."""
    return token is not None and until is not None and until >= now


def settle_runs(until: datetime | None, now: datetime) -> bool:
    """A settle wait runs until its end (exclusive): at ``until`` the retry may look."""
    return until is not None and until > now


def may_start(current: PushRecord | None, record: PushRecord, *, force: bool) -> bool:
    """Whether ``record`` may be written PENDING over ``current``: nothing there, or a record a new push
    replaces, never this very push again (an event delivered twice)."""
    return current is None or (current.status in replaceable(force) and current.push_id != record.push_id)


def may_reject_over(current: PushRecord | None) -> bool:
    """Whether a REJECTED record may take the current state's place (else only the history gets it)."""
    return current is None or current.status in REPLACEABLE


def record_claimable(current: PushRecord | None, push_id: str, attempts: int, now: datetime) -> bool:
    """The record part of a claim's condition: this push, as read (``attempts``), PENDING or
    IN_PROGRESS with no lease running, and no settle wait running."""
    return (
        current is not None
        and current.push_id == push_id
        and current.attempts == attempts
        and not settle_runs(current.settle_until, now)
        and (
            current.status is PushStatus.PENDING
            or (
                current.status is PushStatus.IN_PROGRESS
                and not lease_runs(current.lease_token, current.lease_until, now)
            )
        )
    )


def binding_claimable(binding: Binding | None, seen_version: int | None, now: datetime) -> bool:
    """The binding part of a claim's condition: no lease running on it (an ended one counts as none),
    no settle wait running, and the version as read."""
    if binding is None:
        return seen_version is None
    return (
        (binding.lease_until is None or binding.lease_until < now)
        and not settle_runs(binding.settle_until, now)
        and binding.version == seen_version
    )


def holds_claim(current: PushRecord | None, record: PushRecord) -> bool:
    """Whether the stored record is ``record``'s push IN_PROGRESS under its claim's token (what
    ``finish``, ``note_error`` and ``extend_lease`` with a token require)."""
    return (
        current is not None
        and current.push_id == record.push_id
        and current.status is PushStatus.IN_PROGRESS
        and record.lease_token is not None
        and current.lease_token == record.lease_token
    )


def binding_lease_mine(binding: Binding | None, record: PushRecord) -> bool:
    """The binding's lease is the claim's, or none runs on it (given back, or never taken)."""
    return binding is None or binding.lease_token in (None, record.lease_token)


def may_finish(current: PushRecord | None, binding: Binding | None, record: PushRecord) -> bool:
    """Whether ``record``'s final state may be written over ``current``. With a claim (``lease_token``):
    the push IN_PROGRESS under that token, the binding's lease the claim's, and a live outcome never
    moving the binding backwards unless ``rollback``. Without one (the sweeper, a SUPERSEDED push that
    never held a lease): the push PENDING, or IN_PROGRESS with no lease and no settle wait running at
    ``record.updated_at``."""
    if current is None or current.push_id != record.push_id or current.status not in ACTIVE:
        return False
    if record.lease_token is None:  # never while a worker's lease runs, nor while a settle wait does
        return not (
            current.status is PushStatus.IN_PROGRESS
            and (
                lease_runs(current.lease_token, current.lease_until, record.updated_at)
                or settle_runs(current.settle_until, record.updated_at)
            )
        )
    if not holds_claim(current, record) or not binding_lease_mine(binding, record):
        return False
    return not (
        moves_binding(record)
        and not record.rollback
        and binding is not None
        and (binding.version or 0) > record.version
    )


def moves_binding(record: PushRecord) -> bool:
    """A final outcome that moves the binding to its version: live, with the target's certificate id."""
    return record.status in LIVE and bool(record.target_id)


def may_be_replaced(replaced: PushRecord | None, record: PushRecord) -> bool:
    """Whether the record of another version becomes REPLACED by ``record`` (renewed in place): live and
    naming the same certificate in the target (else it changed meanwhile: left alone)."""
    return (
        replaced is not None
        and replaced.version != record.version
        and replaced.status in LIVE
        and replaced.target_id == record.target_id
    )


def replaced(record: PushRecord, by: PushRecord) -> PushRecord:
    """``record`` renewed in place by ``by``."""
    return record.model_copy(
        update={
            "status": PushStatus.REPLACED,
            "reason": REPLACED_BY,
            "message": f"replaced in place by v{by.version}",
            "replaced_by": by.version,
            "updated_at": by.updated_at,
        }
    )


def may_retract(current: PushRecord | None, record: PushRecord) -> bool:
    """Whether ``record`` (a live push whose certificate certpush deleted) may become RETRACTED."""
    return current is not None and current.push_id == record.push_id and current.status in LIVE


def check_claimable(state: PushState, push_id: str, now: datetime) -> PushRecord:
    """The record of ``state`` when push ``push_id`` may be claimed at ``now``. Raises
    StalePushError (no such push, another push, or final), PushSettlingError (a settle wait runs on the
    record or on the binding), SupersededPushError (the binding holds a newer version and the push is
    no rollback), PushInProgressError (a lease runs on the record or on the binding)."""
    record, binding = state.record, state.binding
    if record is None or record.push_id != push_id or record.status.is_final:
        raise StalePushError(push_id)
    # before the version rule: a late create of the ambiguous attempt may still land, so nothing is
    # decided about this target until it had the time to
    waits = [u for u in (record.settle_until, binding.settle_until if binding else None) if settle_runs(u, now)]
    if waits:
        until = max(u for u in waits if u is not None)
        raise PushSettlingError(push_id, until, max(1, math.ceil((until - now).total_seconds())))
    if binding is not None and binding.version is not None and binding.version > record.version and not record.rollback:
        raise SupersededPushError(push_id, binding.version)
    if record.status is PushStatus.IN_PROGRESS and lease_runs(record.lease_token, record.lease_until, now):
        raise PushInProgressError(push_id)
    if binding is not None and lease_runs(binding.lease_token, binding.lease_until, now):
        raise PushInProgressError(push_id)
    return record


def superseded(record: PushRecord, held_version: int, now: datetime) -> PushRecord:
    """The final record of a push refused because the target holds ``held_version`` (newer)."""
    return record.model_copy(
        update={
            "status": PushStatus.SUPERSEDED,
            "reason": NEWER_VERSION,
            "message": f"the target holds version {held_version}, newer than {record.version}: versions only move "
            f"forward (push --version {record.version} --rollback moves it back)",
            "updated_at": now,
            "lease_token": None,
            "lease_until": None,
        }
    )


def forget_refusal(records: list[PushRecord], binding: Binding | None, now: datetime) -> str | None:
    """Why the records of a target may not be forgotten (``RecordUpkeep.forget``), or None: a
    push of it in flight, or the target holding a certificate certpush pushed (a live record, a
    binding that names one): forgetting those would lose what certpush knows is there."""
    for record in records:
        if not record.status.is_final:
            return f"a push of version {record.version} is {record.status.value}; wait until it is final"
        if record.status.is_live:
            return (
                f"version {record.version} is {record.status.value} there (the target holds it): "
                "certpush retract ID --to ... first"
            )
    if binding is not None and binding.target_id is not None:
        return f"the target holds {binding.target_id}: certpush retract ID --to ... first"
    if binding is not None and lease_runs(binding.lease_token, binding.lease_until, now):
        return "a push holds the target; wait until it is final"
    return None
