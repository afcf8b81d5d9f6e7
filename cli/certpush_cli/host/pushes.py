"""Paginated push queries on the host (port ``PushRecordsQuery``), answering the questions the
DynamoDB indexes answer (``certpush.adapters.dynamodb_pushes``) with the same rules:

- a status: current records of that status (``ByStatus``), newest first;
- provider + service + region: current records of that target (``ByTarget``);
- otherwise: finished pushes (the history) within at most 31 days (``ByDay``).

SQL filters on the remaining fields, so a page is full whenever more records match. A cursor is
the position after the last record of the page, bound to the query that made it (a digest of the
plan): any other query refuses it."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from certpush.errors import InvalidQueryError
from certpush.models.domain import PushQuery, PushRecord, PushRecordsPage, PushStatus, RecordHead
from certpush.models.items import timestamp
from certpush_cli.host.database import Database

MAX_DAYS = 31
DEFAULT_DAYS = 7
_LOWEST, _HIGHEST = "0", "9~"  # below / above every timestamp-led sort key


class _Cursor(BaseModel):
    plan: str
    key: str
    push_id: str


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _encode(cursor: _Cursor) -> str:
    return base64.urlsafe_b64encode(cursor.model_dump_json().encode()).decode().rstrip("=")


def _decode(text: str) -> _Cursor:
    try:
        return _Cursor.model_validate_json(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, ValidationError) as exc:
        raise InvalidQueryError("cursor is not one this API handed out") from exc


class SqlitePushQuery:
    def __init__(self, database: Database) -> None:
        self._db = database

    def page(self, query: PushQuery, limit: int, cursor: str | None, today: date | None = None) -> PushRecordsPage:
        index, table, conditions, values = self._plan(query, today or datetime.now(UTC).date())
        digest = hashlib.sha256(repr((index, conditions, values)).encode()).hexdigest()[:16]
        if cursor is not None:
            position = _decode(cursor)
            if position.plan != digest:
                raise InvalidQueryError("cursor does not belong to this query")
            conditions = [*conditions, "(sort_key < ? OR (sort_key = ? AND push_id < ?))"]
            values = [*values, position.key, position.key, position.push_id]
        rows = (
            self._db.connection()
            .execute(
                f"SELECT record, sort_key, push_id FROM {table} WHERE {' AND '.join(conditions)} "
                "ORDER BY sort_key DESC, push_id DESC LIMIT ?",
                (*values, limit + 1),
            )
            .fetchall()
        )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            _encode(_Cursor(plan=digest, key=rows[-1]["sort_key"], push_id=rows[-1]["push_id"])) if more else None
        )
        return PushRecordsPage(
            records=[PushRecord.model_validate_json(row["record"]) for row in rows], index=index, cursor=next_cursor
        )

    def count_by_status(self, status: PushStatus) -> int:
        (count,) = (
            self._db.connection().execute("SELECT COUNT(*) FROM pushes WHERE status = ?", (status.value,)).fetchone()
        )
        return int(count)

    def heads(self, status: PushStatus) -> list[RecordHead]:
        rows = self._db.connection().execute("SELECT record FROM pushes WHERE status = ?", (status.value,)).fetchall()
        return [RecordHead.of(PushRecord.model_validate_json(row["record"])) for row in rows]

    @staticmethod
    def _plan(query: PushQuery, today: date) -> tuple[str, str, list[str], list[Any]]:
        """(index name as the API reports it, table, SQL conditions, their values)."""
        since = _aware(query.since) if query.since else None
        until = _aware(query.until) if query.until else None
        if since and until and since > until:
            raise InvalidQueryError("since is after until")
        low = timestamp(since) if since else _LOWEST
        high = timestamp(until) + "~" if until else _HIGHEST
        fields = [(name, value) for name in ("provider", "service", "region") if (value := getattr(query, name))]
        conditions = ["sort_key BETWEEN ? AND ?", *(f"{name} = ?" for name, _ in fields)]
        values: list[Any] = [low, high, *(value for _, value in fields)]
        if query.status is not None:
            return "ByStatus", "pushes", [*conditions, "status = ?"], [*values, query.status.value]
        if query.provider and query.service and query.region:
            return "ByTarget", "pushes", conditions, values
        last = until.date() if until else today
        try:
            first = since.date() if since else last - timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:
            first = date.min
        if (last - first).days >= MAX_DAYS:
            raise InvalidQueryError(f"without a status or a whole target, a query spans at most {MAX_DAYS} days")
        return "ByDay", "history", [*conditions, "day BETWEEN ? AND ?"], [*values, first.isoformat(), last.isoformat()]
