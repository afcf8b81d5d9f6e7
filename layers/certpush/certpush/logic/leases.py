"""The rules of claiming a push, shared by every records repository (DynamoDB, the in-memory fake,
the one-machine host): when a claim may be tried, and why it may not.

A push is claimed with a lease on its record and on the binding of its (certificate, target), so
pushes of one certificate to one target run one at a time across versions, and the target's version
only moves forward: an older version than the binding's ends SUPERSEDED unless it is a rollback."""

from __future__ import annotations

from datetime import datetime

from certpush.errors import PushInProgressError, StalePushError, SupersededPushError
from certpush.models.domain import Binding, PushRecord, PushState, PushStatus

REPLACED_BY = "REPLACED_BY"
"""Reason of a REPLACED record: a later push renewed its certificate in place (``replaced_by``)."""
NEWER_VERSION = "NEWER_VERSION"
"""Reason of a SUPERSEDED record: the target holds a newer version."""


def lease_runs(token: str | None, until: datetime | None, now: datetime) -> bool:
    """A lease is held at ``now`` until its end (inclusive); a given-back lease has neither."""
    return token is not None and until is not None and until >= now


def check_claimable(state: PushState, push_id: str, now: datetime) -> PushRecord:
    """The record of ``state`` when push ``push_id`` may be claimed at ``now``. Raises
    StalePushError (no such push, another push, or final), SupersededPushError (the binding holds
    a newer version and the push is no rollback), PushInProgressError (a lease runs on the record
    or on the binding)."""
    record, binding = state.record, state.binding
    if record is None or record.push_id != push_id or record.status.is_final:
        raise StalePushError(push_id)
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
    """Why the records of a target may not be forgotten (``RecordsRepository.forget``), or None: a
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
