"""The inbox: "Certificate Issued" events waiting for the validator (port ``IssuancePublisher``),
the host's stand-in for the event bus and the validator's rule. An event is a row written in the
caller's transaction (an import writes its version and its event together), and it leaves the inbox
in the transaction that validates it: a crash before validation leaves it there, a crash during
validation undoes the validation, so it is validated exactly once.

An event whose validation fails (an error, not a rejection) is tried again after a backoff, up to
``max_attempts`` times as Lambda retries an asynchronous invocation twice, then kept as failed
(with the error) instead of being dropped."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from certpush.models.events import CertificateIssuedDetail
from certpush_cli.host.database import Database


@dataclass(frozen=True)
class InboxEvent:
    event_id: str
    detail: CertificateIssuedDetail
    attempts: int


class SqliteInbox:
    def __init__(
        self,
        database: Database,
        max_attempts: int = 3,
        backoff_seconds: float = 5.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._now = now

    def certificate_issued(self, detail: CertificateIssuedDetail) -> str:
        event_id = str(uuid.uuid4())
        now = self._now()
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT INTO inbox (event_id, issuance_id, detail, received_at, visible_at) VALUES (?, ?, ?, ?, ?)",
                # the validator's issuance id: the event's own, else the event id (as on EventBridge)
                (event_id, detail.issuance_id or event_id, detail.model_dump_json(exclude_none=True), now, now),
            )
        return event_id

    def next_due(self, issuance_id: str | None = None) -> InboxEvent | None:
        """The oldest event due for validation; call inside the transaction that validates it."""
        where = "failed = 0 AND visible_at <= ?" + (" AND issuance_id = ?" if issuance_id is not None else "")
        arguments = (self._now(), issuance_id) if issuance_id is not None else (self._now(),)
        row = (
            self._db.connection()
            .execute(f"SELECT * FROM inbox WHERE {where} ORDER BY received_at LIMIT 1", arguments)
            .fetchone()
        )
        if row is None:
            return None
        return InboxEvent(row["event_id"], CertificateIssuedDetail.model_validate_json(row["detail"]), row["attempts"])

    def done(self, event_id: str) -> None:
        with self._db.transaction() as connection:
            connection.execute("DELETE FROM inbox WHERE event_id = ?", (event_id,))

    def note_failure(self, event_id: str, error: str) -> bool:
        """Counts a failed validation; True when the event is given up (kept as failed)."""
        with self._db.transaction() as connection:
            row = connection.execute("SELECT attempts FROM inbox WHERE event_id = ?", (event_id,)).fetchone()
            if row is None:
                return False
            attempts = row["attempts"] + 1
            failed = attempts >= self._max_attempts
            connection.execute(
                "UPDATE inbox SET attempts = ?, failed = ?, error = ?, visible_at = ? WHERE event_id = ?",
                (attempts, int(failed), error[:500], self._now() + self._backoff * 2 ** (attempts - 1), event_id),
            )
        return failed

    def pending(self, issuance_id: str | None = None) -> int:
        where, arguments = (
            ("failed = 0", ()) if issuance_id is None else ("failed = 0 AND issuance_id = ?", (issuance_id,))
        )
        (count,) = self._db.connection().execute(f"SELECT COUNT(*) FROM inbox WHERE {where}", arguments).fetchone()
        return int(count)
