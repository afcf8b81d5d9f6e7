"""Records on the host (port ``RecordsRepository``): the semantics of
``certpush.adapters.dynamodb_records``, each conditional write a statement (or a few) inside one
SQLite transaction instead of a ConditionExpression or a TransactWriteItems.

- ``pushes``: the current state of each (certificate, version, target), the record as JSON beside
  the columns the conditions and indexes need; ``sort_key`` is the ByStatus / ByTarget sort key
  (``{updated}#{certificate}#{version}#{target}``) so the orders match DynamoDB's.
- ``history``: one row per final outcome (key: certificate, finished time, push id, as the HIST#
  sort key); ``notified`` is the notifier's outbox mark, set when its events are written.
- ``bindings``: what each target holds of a certificate (the last SUCCEEDED push's id there).
- ``issuances``: the targets of an issuance and the outcome of each, for the summary.

A lease records its owner (the process, ``processes.process_identity``), so the host can hand back
at once the leases of a process that died (``HostRuntime`` does, at start and on its sweeps) rather
than wait for them to run out; the port's semantics are unchanged."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from certpush.errors import PushInProgressError, StalePushError
from certpush.models.domain import HISTORY_LENGTH, Issuance, IssuanceProgress, PushRecord, PushStatus, TargetKey
from certpush.models.events import IssuanceSummaryDetail
from certpush.models.items import timestamp
from certpush_cli.host.database import Database

_PENDING, _IN_PROGRESS = PushStatus.PENDING.value, PushStatus.IN_PROGRESS.value
# a new push may take the place of these (with --force, of a SUCCEEDED one too)
_REPLACEABLE = (PushStatus.FAILED.value, PushStatus.REJECTED.value, PushStatus.RETRACTED.value)
_TARGET = "provider = ? AND service = ? AND region = ?"
_KEY = f"certificate_id = ? AND version = ? AND {_TARGET}"


def _key(certificate_id: str, version: int, target: TargetKey) -> tuple[Any, ...]:
    return (certificate_id, version, target.provider, target.service, target.region)


def _record_key(record: PushRecord) -> tuple[Any, ...]:
    return _key(record.certificate_id, record.version, record.target)


def sort_key(record: PushRecord) -> str:
    return f"{timestamp(record.updated_at)}#{record.certificate_id}#{record.version}#{record.target}"


def _record(row: sqlite3.Row) -> PushRecord:
    return PushRecord.model_validate_json(row["record"])


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


class SqliteRecordsRepository:
    def __init__(self, database: Database, owner: str = "") -> None:
        self._db = database
        self._owner = owner

    # -- reads -----------------------------------------------------------------------------------
    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None:
        row = (
            self._db.connection()
            .execute(f"SELECT record FROM pushes WHERE {_KEY}", _key(certificate_id, version, target))
            .fetchone()
        )
        return _record(row) if row else None

    def list_current(self, certificate_id: str) -> list[PushRecord]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT record FROM pushes WHERE certificate_id = ? ORDER BY version, provider, service, region",
                (certificate_id,),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def history(self, certificate_id: str, limit: int = HISTORY_LENGTH) -> list[PushRecord]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT record FROM history WHERE certificate_id = ? ORDER BY finished_at DESC, push_id DESC LIMIT ?",
                (certificate_id, limit),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]:
        rows = (
            self._db.connection()
            .execute("SELECT record FROM pushes WHERE status = ? ORDER BY sort_key DESC LIMIT ?", (status.value, limit))
            .fetchall()
        )
        return [_record(row) for row in rows]

    def by_target(self, target: TargetKey, limit: int = 100) -> list[PushRecord]:
        rows = (
            self._db.connection()
            .execute(
                f"SELECT record FROM pushes WHERE {_TARGET} ORDER BY sort_key DESC LIMIT ?",
                (target.provider, target.service, target.region, limit),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def deployed_target_id(self, certificate_id: str, target: TargetKey) -> str | None:
        row = (
            self._db.connection()
            .execute(
                f"SELECT target_id FROM bindings WHERE certificate_id = ? AND {_TARGET}",
                (certificate_id, target.provider, target.service, target.region),
            )
            .fetchone()
        )
        return str(row["target_id"]) if row else None

    def deployed_target_ids(self, wanted: Sequence[tuple[str, TargetKey]]) -> dict[tuple[str, TargetKey], str]:
        found: dict[tuple[str, TargetKey], str] = {}
        with self._db.read():
            for certificate_id, target in dict.fromkeys(wanted):
                target_id = self.deployed_target_id(certificate_id, target)
                if target_id is not None:
                    found[(certificate_id, target)] = target_id
        return found

    # -- writes ----------------------------------------------------------------------------------
    def _put_current(self, connection: sqlite3.Connection, record: PushRecord, lease_until: str | None = None) -> None:
        connection.execute(
            "INSERT OR REPLACE INTO pushes (certificate_id, version, provider, service, region, status, push_id, "
            "updated_at, sort_key, lease_until, lease_owner, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *_record_key(record),
                record.status.value,
                record.push_id,
                timestamp(record.updated_at),
                sort_key(record),
                lease_until,
                self._owner if lease_until else None,
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

    def _current_row(self, connection: sqlite3.Connection, record: PushRecord) -> sqlite3.Row | None:
        row: sqlite3.Row | None = connection.execute(
            f"SELECT status, push_id, lease_until, record FROM pushes WHERE {_KEY}", _record_key(record)
        ).fetchone()
        return row

    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        """A new push may replace a FAILED, REJECTED or RETRACTED one (with force, a SUCCEEDED one too),
        never itself (an event delivered twice)."""
        replaceable = (*_REPLACEABLE, PushStatus.SUCCEEDED.value) if force else _REPLACEABLE
        with self._db.transaction() as connection:
            current = self._current_row(connection, record)
            if current is not None and (current["status"] not in replaceable or current["push_id"] == record.push_id):
                return False
            self._put_current(connection, record)
            return True

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        """One transaction for all of them (SQLite has no round trips to save, only commits)."""
        with self._db.transaction():
            return [self.start_push(record, force=force) for record in records]

    def mark_in_progress(self, record: PushRecord, lease_seconds: int = 60) -> PushRecord:
        now = timestamp(record.updated_at)
        with self._db.transaction() as connection:
            current = self._current_row(connection, record)
            claimable = (
                current is not None
                and current["push_id"] == record.push_id
                and (
                    current["status"] == _PENDING
                    or (
                        current["status"] == _IN_PROGRESS
                        and (current["lease_until"] is None or current["lease_until"] < now)
                    )
                )
            )
            if not claimable:
                if current is not None and current["push_id"] == record.push_id and current["status"] == _IN_PROGRESS:
                    raise PushInProgressError(record.push_id)
                raise StalePushError(record.push_id)
            assert current is not None
            stored = _record(current)
            claimed = stored.model_copy(
                update={
                    "status": PushStatus.IN_PROGRESS,
                    "updated_at": record.updated_at,
                    "attempts": stored.attempts + 1,
                }
            )
            self._put_current(
                connection, claimed, lease_until=timestamp(record.updated_at + timedelta(seconds=lease_seconds))
            )
        return claimed

    def note_error(self, record: PushRecord) -> None:
        """Keeps the last transient error on an in-progress record (status unchanged), lease released."""
        with self._db.transaction() as connection:
            current = self._current_row(connection, record)
            if current is None or current["push_id"] != record.push_id or current["status"] != _IN_PROGRESS:
                return
            noted = _record(current).model_copy(
                update={"reason": record.reason or "", "message": record.message or "", "updated_at": record.updated_at}
            )
            self._put_current(connection, noted)

    def finish(self, record: PushRecord) -> bool:
        """Final state, history entry and (SUCCEEDED) binding in one transaction, once per push."""
        with self._db.transaction() as connection:
            current = self._current_row(connection, record)
            if (
                current is None
                or current["push_id"] != record.push_id
                or current["status"] not in (_PENDING, _IN_PROGRESS)
            ):
                return False
            self._put_current(connection, record)
            self._put_history(connection, record)
            if record.status is PushStatus.SUCCEEDED and record.target_id:
                connection.execute(
                    "INSERT OR REPLACE INTO bindings (certificate_id, provider, service, region, target_id, version, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.certificate_id,
                        record.provider,
                        record.service,
                        record.region,
                        record.target_id,
                        record.version,
                        timestamp(record.updated_at),
                    ),
                )
        return True

    def record_retraction(self, record: PushRecord) -> bool:
        retracted = record.model_copy(update={"status": PushStatus.RETRACTED})
        with self._db.transaction() as connection:
            current = self._current_row(connection, record)
            if (
                current is None
                or current["push_id"] != record.push_id
                or current["status"] != PushStatus.SUCCEEDED.value
            ):
                return False
            self._put_current(connection, retracted)
            self._put_history(connection, retracted)
            connection.execute(
                f"DELETE FROM bindings WHERE certificate_id = ? AND {_TARGET} AND target_id = ?",
                (record.certificate_id, record.provider, record.service, record.region, record.target_id),
            )
        return True

    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        with self._db.transaction() as connection:
            if not keep_current:
                current = self._current_row(connection, record)
                if current is None or current["status"] in _REPLACEABLE:
                    self._put_current(connection, record)
            self._put_history(connection, record)

    # -- the sweeper -----------------------------------------------------------------------------
    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT record FROM pushes WHERE status IN (?, ?) AND updated_at < ? ORDER BY sort_key",
                (_PENDING, _IN_PROGRESS, timestamp(cutoff)),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def note_swept(self, record: PushRecord, now: datetime) -> bool:
        with self._db.transaction() as connection:
            row = connection.execute(
                f"SELECT status, push_id, updated_at, lease_until, record FROM pushes WHERE {_KEY}", _record_key(record)
            ).fetchone()
            if (
                row is None
                or row["push_id"] != record.push_id
                or row["status"] != record.status.value
                or row["updated_at"] != timestamp(record.updated_at)
            ):
                return False
            stored = _record(row)
            swept = stored.model_copy(update={"updated_at": now, "sweeps": stored.sweeps + 1})
            connection.execute(
                f"UPDATE pushes SET updated_at = ?, sort_key = ?, record = ? WHERE {_KEY}",
                (timestamp(now), sort_key(swept), swept.model_dump_json(), *_record_key(record)),
            )
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

    def note_final(self, issuance_id: str, target: TargetKey, outcome: str) -> IssuanceSummaryDetail | None:
        return self.note_finals(issuance_id, {target: outcome})

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
        """Leases of processes that died end now: the next delivery of their messages takes over at
        once instead of waiting for the lease to run out."""
        with self._db.transaction() as connection:
            owners = [
                row["lease_owner"]
                for row in connection.execute(
                    "SELECT DISTINCT lease_owner FROM pushes WHERE status = ? AND lease_owner IS NOT NULL",
                    (_IN_PROGRESS,),
                )
            ]
            released = 0
            for owner in owners:
                if owner != self._owner and not is_alive(owner):
                    released += connection.execute(
                        "UPDATE pushes SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = ? AND status = ?",
                        (owner, _IN_PROGRESS),
                    ).rowcount
        return released
