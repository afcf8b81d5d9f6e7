"""Records on the host (port ``RecordsRepository``): the semantics of
``certpush.adapters.dynamodb_records``, each conditional write a few statements inside one SQLite
transaction instead of a ConditionExpression or a TransactWriteItems (a transaction holds the
database's write lock, so what it read cannot change before it writes).

- ``pushes``: the current state of each (certificate, version, target): the record as JSON beside the
  columns the conditions and indexes need, and the claim holding it (``lease_token``,
  ``lease_until``); ``sort_key`` is the ByStatus / ByTarget sort key
  (``{updated}#{certificate}#{version}#{target}``) so the orders match DynamoDB's.
- ``history``: one row per final outcome (key: certificate, finished time, push id, as the HIST#
  sort key); ``notified`` is the notifier's outbox mark, set when its events are written.
- ``bindings``: what each target holds of a certificate (id and version), and the lease of the push
  changing it: pushes of one certificate to one target run one at a time, versions only move forward.
- ``issuances``: the targets of an issuance and the outcome of each, for the summary.

The rules are ``certpush.logic.record_rules`` (shared with DynamoDB and the fake). A lease also
records its owner (the process, ``processes.process_identity``), so the host can hand back at once
the leases of a process that died (``release_dead_leases``) rather than wait for them to run out;
the port's semantics are unchanged."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from certpush.errors import PushInProgressError, RecordsInUseError, StalePushError
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
    HISTORY_LENGTH,
    Binding,
    Issuance,
    IssuanceProgress,
    PushRecord,
    PushState,
    PushStatus,
    TargetKey,
)
from certpush.models.events import IssuanceSummaryDetail
from certpush.models.items import parse_timestamp, timestamp
from certpush_cli.host.database import Database

_TARGET = "provider = ? AND service = ? AND region = ?"
_KEY = f"certificate_id = ? AND version = ? AND {_TARGET}"
_BINDING = f"certificate_id = ? AND {_TARGET}"
_CLAIM_TRIES = 3


def _key(certificate_id: str, version: int, target: TargetKey) -> tuple[Any, ...]:
    return (certificate_id, version, target.provider, target.service, target.region)


def _record_key(record: PushRecord) -> tuple[Any, ...]:
    return _key(record.certificate_id, record.version, record.target)


def _binding_key(certificate_id: str, target: TargetKey) -> tuple[Any, ...]:
    return (certificate_id, target.provider, target.service, target.region)


def sort_key(record: PushRecord) -> str:
    return f"{timestamp(record.updated_at)}#{record.certificate_id}#{record.version}#{record.target}"


def _when(text: str | None) -> datetime | None:
    return parse_timestamp(text) if text else None


def _record(row: sqlite3.Row) -> PushRecord:
    """A row of ``pushes`` (its claim and settle wait from the columns) or of ``history`` (neither)."""
    record = PushRecord.model_validate_json(row["record"])
    keys = row.keys()
    if "lease_token" in keys and row["lease_token"]:
        record = record.model_copy(update={"lease_token": row["lease_token"], "lease_until": _when(row["lease_until"])})
    if "settle_until" in keys and row["settle_until"]:
        record = record.model_copy(update={"settle_until": _when(row["settle_until"])})
    return record


def _binding(row: sqlite3.Row | None) -> Binding | None:
    if row is None:
        return None
    return Binding(
        target_id=row["target_id"],
        version=row["version"],
        lease_token=row["lease_token"],
        lease_until=_when(row["lease_until"]),
        settle_until=_when(row["settle_until"]),
    )


class SqliteRecordsRepository:
    def __init__(self, database: Database, owner: str = "") -> None:
        self._db = database
        self._owner = owner

    # -- reads -----------------------------------------------------------------------------------
    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None:
        row = self._db.connection().execute(f"SELECT * FROM pushes WHERE {_KEY}", _key(certificate_id, version, target))
        found = row.fetchone()
        return _record(found) if found else None

    def list_current(self, certificate_id: str) -> list[PushRecord]:
        rows = self._db.connection().execute(
            "SELECT * FROM pushes WHERE certificate_id = ? ORDER BY version, provider, service, region",
            (certificate_id,),
        )
        return [_record(row) for row in rows.fetchall()]

    def history(self, certificate_id: str, limit: int = HISTORY_LENGTH) -> list[PushRecord]:
        rows = self._db.connection().execute(
            "SELECT record FROM history WHERE certificate_id = ? ORDER BY finished_at DESC, push_id DESC LIMIT ?",
            (certificate_id, limit),
        )
        return [_record(row) for row in rows.fetchall()]

    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]:
        rows = self._db.connection().execute(
            "SELECT * FROM pushes WHERE status = ? ORDER BY sort_key DESC LIMIT ?", (status.value, limit)
        )
        return [_record(row) for row in rows.fetchall()]

    def binding(self, certificate_id: str, target: TargetKey) -> Binding | None:
        return self._read_binding(self._db.connection(), certificate_id, target)

    @staticmethod
    def _read_binding(connection: sqlite3.Connection, certificate_id: str, target: TargetKey) -> Binding | None:
        row = connection.execute(f"SELECT * FROM bindings WHERE {_BINDING}", _binding_key(certificate_id, target))
        return _binding(row.fetchone())

    def push_states(self, pushes: Sequence[tuple[str, int, TargetKey]]) -> dict[tuple[str, int, TargetKey], PushState]:
        """Records and bindings of a batch of pushes, read in one consistent snapshot."""
        states: dict[tuple[str, int, TargetKey], PushState] = {}
        with self._db.read() as connection:
            for certificate_id, version, target in pushes:
                row = connection.execute(f"SELECT * FROM pushes WHERE {_KEY}", _key(certificate_id, version, target))
                found = row.fetchone()
                states[(certificate_id, version, target)] = PushState(
                    record=_record(found) if found else None,
                    binding=self._read_binding(connection, certificate_id, target),
                )
        return states

    # -- writes ----------------------------------------------------------------------------------
    def _put_current(self, connection: sqlite3.Connection, record: PushRecord) -> None:
        """The record as the current state, with its claim (if it carries one)."""
        connection.execute(
            "INSERT OR REPLACE INTO pushes (certificate_id, version, provider, service, region, status, push_id, "
            "updated_at, sort_key, lease_token, lease_until, lease_owner, settle_until, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *_record_key(record),
                record.status.value,
                record.push_id,
                timestamp(record.updated_at),
                sort_key(record),
                record.lease_token,
                timestamp(record.lease_until) if record.lease_until else None,
                self._owner if record.lease_token else None,
                timestamp(record.settle_until) if record.settle_until else None,
                record.model_dump_json(),
            ),
        )

    @staticmethod
    def _put_history(connection: sqlite3.Connection, record: PushRecord) -> None:
        """Once per key, as a DynamoDB Put of the same item changes nothing the stream reports."""
        finished = timestamp(record.updated_at)
        connection.execute(
            "INSERT INTO history (certificate_id, push_id, finished_at, day, sort_key, provider, service, region, "
            "record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (certificate_id, finished_at, push_id) DO UPDATE SET record = excluded.record",
            (
                record.certificate_id,
                record.push_id,
                finished,
                finished[:10],
                f"{finished}#{record.certificate_id}#{record.version}#{record.target}",
                record.provider,
                record.service,
                record.region,
                record.model_dump_json(),
            ),
        )

    def _put_binding(
        self, connection: sqlite3.Connection, certificate_id: str, target: TargetKey, binding: Binding
    ) -> None:
        connection.execute(
            "INSERT OR REPLACE INTO bindings (certificate_id, provider, service, region, target_id, version, "
            "lease_token, lease_until, lease_owner, settle_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *_binding_key(certificate_id, target),
                binding.target_id,
                binding.version,
                binding.lease_token,
                timestamp(binding.lease_until) if binding.lease_until else None,
                self._owner if binding.lease_token else None,
                timestamp(binding.settle_until) if binding.settle_until else None,
            ),
        )

    def _current(self, connection: sqlite3.Connection, record: PushRecord) -> PushRecord | None:
        row = connection.execute(f"SELECT * FROM pushes WHERE {_KEY}", _record_key(record)).fetchone()
        return _record(row) if row else None

    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        """A new push may replace a FAILED, REJECTED, RETRACTED, SUPERSEDED, REPLACED or ATTACH_FAILED
        one (with force, a SUCCEEDED one too), never itself (an event delivered twice)."""
        with self._db.transaction() as connection:
            if not may_start(self._current(connection, record), record, force=force):
                return False
            self._put_current(
                connection, record.model_copy(update={"lease_token": None, "lease_until": None, "settle_until": None})
            )
            return True

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        """One transaction for all of them (SQLite has no round trips to save, only commits)."""
        with self._db.transaction():
            return [self.start_push(record, force=force) for record in records]

    # -- the lease of a push: claim, heartbeat, give back -------------------------------------------
    def claim(self, state: PushState, now: datetime, lease_seconds: int) -> PushState:
        if state.record is None:
            raise StalePushError("?")
        push_id = state.record.push_id
        with self._db.transaction() as connection:
            for _ in range(_CLAIM_TRIES):
                record = check_claimable(state, push_id, now)
                current = self._current(connection, record)
                binding = self._read_binding(connection, record.certificate_id, record.target)
                seen_version = state.binding.version if state.binding else None
                if not (
                    record_claimable(current, push_id, record.attempts, now)
                    and binding_claimable(binding, seen_version, now)
                ):  # out of date: claim on what is there now
                    state = PushState(record=current, binding=binding)
                    continue
                assert current is not None
                token, until = str(uuid.uuid4()), now + timedelta(seconds=lease_seconds)
                claimed = current.model_copy(
                    update={
                        "status": PushStatus.IN_PROGRESS,
                        "attempts": current.attempts + 1,
                        "updated_at": now,
                        "lease_token": token,
                        "lease_until": until,
                        "settle_until": None,
                    }
                )
                leased = (binding or Binding()).model_copy(
                    update={"lease_token": token, "lease_until": until, "settle_until": None}
                )
                self._put_current(connection, claimed)
                self._put_binding(connection, record.certificate_id, record.target, leased)
                return PushState(record=claimed, binding=leased)
        raise PushInProgressError(push_id)

    def _holds(self, connection: sqlite3.Connection, record: PushRecord) -> PushRecord | None:
        """The stored record, when it is this push IN_PROGRESS under the claim's token."""
        current = self._current(connection, record)
        return current if holds_claim(current, record) else None

    def extend_lease(self, record: PushRecord, until: datetime) -> bool:
        with self._db.transaction() as connection:
            current = self._holds(connection, record)
            binding = self._read_binding(connection, record.certificate_id, record.target)
            if current is None or binding is None or binding.lease_token != record.lease_token:
                return False
            self._put_current(connection, current.model_copy(update={"lease_until": until}))
            self._put_binding(
                connection, record.certificate_id, record.target, binding.model_copy(update={"lease_until": until})
            )
        return True

    def _give_back(
        self,
        connection: sqlite3.Connection,
        record: PushRecord,
        binding: Binding | None,
        settle_until: datetime | None = None,
    ) -> None:
        """The binding's lease back (with a settle wait, when given)."""
        if binding is not None and (binding.lease_token is not None or settle_until is not None):
            changes: dict[str, object] = {"lease_token": None, "lease_until": None}
            if settle_until is not None:
                changes["settle_until"] = settle_until
            self._put_binding(connection, record.certificate_id, record.target, binding.model_copy(update=changes))

    def note_error(self, record: PushRecord, *, refund_attempt: bool = False) -> bool:
        """The last transient error (and the upload fact, when the upload was done) on the in-progress
        record, both leases given back, while the claim is still ours."""
        with self._db.transaction() as connection:
            current = self._holds(connection, record)
            binding = self._read_binding(connection, record.certificate_id, record.target)
            if current is None or not binding_lease_mine(binding, record):
                return False
            changes: dict[str, object] = {
                "reason": record.reason or "",
                "message": record.message or "",
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
            self._put_current(connection, current.model_copy(update=changes))
            self._give_back(connection, record, binding, record.settle_until)
        return True

    def finish(self, record: PushRecord, *, replacing: int | None = None) -> bool:
        """Final state + history entry (+ binding, + the REPLACED record) in one transaction, once per
        push. False if it was final already or the claim was lost."""
        with self._db.transaction() as connection:
            current = self._current(connection, record)
            binding = self._read_binding(connection, record.certificate_id, record.target)
            if not may_finish(current, binding, record):
                return False
            final = record.model_copy(update={"lease_token": None, "lease_until": None, "settle_until": None})
            self._put_current(connection, final)
            self._put_history(connection, final)
            if record.lease_token is None:
                return True
            if moves_binding(record):
                self._put_binding(
                    connection,
                    record.certificate_id,
                    record.target,
                    Binding(target_id=record.target_id, version=record.version),
                )
            else:
                self._give_back(connection, record, binding)
            if replacing is not None and replacing != record.version:
                self._replace(connection, final, replacing)
        return True

    def _replace(self, connection: sqlite3.Connection, record: PushRecord, version: int) -> None:
        """The record of ``version`` in the same target, renewed in place by ``record``: REPLACED, if it
        is live and names the same certificate (else it changed meanwhile: left alone)."""
        row = connection.execute(
            f"SELECT * FROM pushes WHERE {_KEY}", _key(record.certificate_id, version, record.target)
        ).fetchone()
        earlier = _record(row) if row else None
        if earlier is not None and may_be_replaced(earlier, record):
            self._put_current(connection, replaced(earlier, record))

    def record_retraction(self, record: PushRecord) -> bool:
        retracted = record.model_copy(update={"status": PushStatus.RETRACTED, "lease_token": None, "lease_until": None})
        with self._db.transaction() as connection:
            if not may_retract(self._current(connection, record), record):
                return False
            self._put_current(connection, retracted)
            self._put_history(connection, retracted)
            connection.execute(
                f"DELETE FROM bindings WHERE {_BINDING} AND target_id = ?",
                (*_binding_key(record.certificate_id, record.target), record.target_id),
            )
        return True

    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        with self._db.transaction() as connection:
            if not keep_current and may_reject_over(self._current(connection, record)):
                self._put_current(connection, record)
            self._put_history(connection, record)

    def forget(self, certificate_id: str, target: TargetKey) -> int:
        """In one transaction: what ``forget_refusal`` refuses, or the target's current records, its
        history and its binding deleted."""
        with self._db.transaction() as connection:
            rows = connection.execute(
                f"SELECT * FROM pushes WHERE certificate_id = ? AND {_TARGET}", _binding_key(certificate_id, target)
            ).fetchall()
            current = [_record(row) for row in rows]
            binding = self._read_binding(connection, certificate_id, target)
            if (why := forget_refusal(current, binding, datetime.now(UTC))) is not None:
                raise RecordsInUseError(str(target), why)
            for table in ("pushes", "history", "bindings"):
                connection.execute(
                    f"DELETE FROM {table} WHERE certificate_id = ? AND {_TARGET}", _binding_key(certificate_id, target)
                )
        return len(current)

    # -- the sweeper -----------------------------------------------------------------------------
    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        rows = self._db.connection().execute(
            "SELECT * FROM pushes WHERE status IN (?, ?) AND updated_at < ? ORDER BY sort_key",
            (*sorted(s.value for s in ACTIVE), timestamp(cutoff)),
        )
        return [_record(row) for row in rows.fetchall()]

    def note_swept(self, record: PushRecord, now: datetime) -> bool:
        with self._db.transaction() as connection:
            current = self._current(connection, record)
            if (
                current is None
                or current.push_id != record.push_id
                or current.status is not record.status
                or timestamp(current.updated_at) != timestamp(record.updated_at)
            ):
                return False
            self._put_current(connection, current.model_copy(update={"updated_at": now, "sweeps": current.sweeps + 1}))
        return True

    # -- issuances -------------------------------------------------------------------------------
    def put_issuance(self, issuance: Issuance) -> None:
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO issuances (issuance_id, certificate_id, version, targets, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    issuance.issuance_id,
                    issuance.certificate_id,
                    issuance.version,
                    json.dumps([str(t) for t in issuance.targets]),
                    timestamp(issuance.created_at),
                ),
            )

    def get_issuance(self, issuance_id: str) -> IssuanceProgress | None:
        row = self._db.connection().execute("SELECT * FROM issuances WHERE issuance_id = ?", (issuance_id,)).fetchone()
        if row is None:
            return None
        return IssuanceProgress(
            issuance_id=issuance_id,
            certificate_id=row["certificate_id"],
            version=row["version"],
            targets=json.loads(row["targets"]),
            outcomes=json.loads(row["outcomes"]),
        )

    def note_finals(self, issuance_id: str, outcomes: Mapping[TargetKey, str]) -> IssuanceSummaryDetail | None:
        with self._db.transaction() as connection:
            row = connection.execute("SELECT * FROM issuances WHERE issuance_id = ?", (issuance_id,)).fetchone()
            if row is None:
                return None  # an issuance we did not record
            noted: dict[str, str] = json.loads(row["outcomes"])
            noted.update({str(target): str(outcome) for target, outcome in outcomes.items()})
            connection.execute(
                "UPDATE issuances SET outcomes = ? WHERE issuance_id = ?", (json.dumps(noted), issuance_id)
            )
        if len(noted) < len(json.loads(row["targets"])) or row["summary_sent"]:
            return None
        return IssuanceSummaryDetail.from_outcomes(issuance_id, row["certificate_id"], int(row["version"]), noted)

    def mark_summary_sent(self, issuance_id: str) -> None:
        with self._db.transaction() as connection:
            connection.execute("UPDATE issuances SET summary_sent = 1 WHERE issuance_id = ?", (issuance_id,))

    # -- the host's own ------------------------------------------------------------------------
    def release_dead_leases(self, is_alive: Callable[[str], bool]) -> int:
        """Leases of processes that died end now (on records and bindings): the next delivery of their
        messages takes over at once instead of waiting for the leases to run out."""
        released = 0
        with self._db.transaction() as connection:
            for table in ("pushes", "bindings"):
                owners = [
                    row["lease_owner"]
                    for row in connection.execute(
                        f"SELECT DISTINCT lease_owner FROM {table} "
                        "WHERE lease_token IS NOT NULL AND lease_owner IS NOT NULL"
                    )
                ]
                for owner in owners:
                    if owner != self._owner and not is_alive(owner):
                        released += connection.execute(
                            f"UPDATE {table} SET lease_token = NULL, lease_until = NULL, lease_owner = NULL "
                            "WHERE lease_owner = ?",
                            (owner,),
                        ).rowcount
        return released
