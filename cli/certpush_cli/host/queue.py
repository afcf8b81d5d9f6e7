"""The push queue on the host, in the host's database (ports ``PushQueue``, ``RetryScheduler``,
``RedriveQueue``; ``SqliteDeadLetterQueue``: ``DeadLetterQueue``), with the SQS semantics the push
worker relies on (SQS Developer Guide: "Amazon SQS visibility timeout", "Using dead-letter queues"):

- a received message is hidden for the visibility timeout and comes back unless it is deleted;
- every receive counts (``receive_count``, SQS's ApproximateReceiveCount); a message received
  ``max_receives`` times and still not deleted moves to the dead-letter queue at its next receive
  (the redrive policy's maxReceiveCount);
- ``retry_later`` changes the visibility of one received message (the backoff, "not before");
- the dead-letter queue keeps the body as it was; redriving sends it back as a new message.

Why not a library: persist-queue's SQLiteAckQueue has ack/nack and retry counts but no visibility
timeout, no per-message delay and no dead-letter move, and keeps its own connection, so a message
could not be written in the transaction of its PENDING record; litequeue has a visibility timeout
but no receive counts, delays or dead letters, and the same connection problem; huey's SQLite storage
is a task queue (it runs its own workers and pickles calls), not a queue of messages for our worker.
What the host needs is a table and six statements, run on the caller's connection, so that
``send`` joins the caller's transaction (the validator's records and their messages commit together)
and the contract tests (tests/integration/test_port_contracts.py) hold it to SQS's behaviour.

Times are wall-clock seconds (``now``, injectable). A receive records the receiving process: a
message received by a process that died is made visible again at once (``release_dead_receivers``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from certpush.models.messages import DeadLetter, PushMessage
from certpush_cli.host.database import Database
from certpush_cli.host.processes import is_alive

# SQS's limit for a visibility timeout (12 hours), which retry_later clamps to as SqsPushQueue does
MAX_VISIBILITY_SECONDS = 12 * 3600
MAX_BATCH = 10


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt: str
    body: str
    receive_count: int
    sent_at: float
    first_received_at: float


def _issuance_of(body: str) -> str | None:
    try:
        return PushMessage.model_validate_json(body).issuance_id
    except ValidationError:
        return None


class SqlitePushQueue:
    def __init__(
        self,
        database: Database,
        *,
        owner: str = "",
        visibility_timeout: int = 360,
        max_receives: int = 10,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._owner = owner
        self._visibility = visibility_timeout
        self._max_receives = max_receives
        self._now = now

    # -- PushQueue / RedriveQueue ----------------------------------------------------------------
    def send(self, messages: Sequence[PushMessage]) -> None:
        """Every message, in the caller's transaction when one is open."""
        self._insert([(m.model_dump_json(), m.issuance_id) for m in messages])

    def send_bodies(self, bodies: Sequence[str]) -> set[int]:
        chosen = list(bodies[:MAX_BATCH])
        self._insert([(body, _issuance_of(body)) for body in chosen])
        return set(range(len(chosen)))

    def _insert(self, rows: Sequence[tuple[str, str | None]]) -> None:
        now = self._now()
        with self._db.transaction() as connection:
            connection.executemany(
                "INSERT INTO queue (message_id, body, issuance_id, sent_at, visible_at) VALUES (?, ?, ?, ?, ?)",
                [(str(uuid.uuid4()), body, issuance_id, now, now) for body, issuance_id in rows],
            )

    # -- RetryScheduler --------------------------------------------------------------------------
    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        delay = max(0, min(seconds, MAX_VISIBILITY_SECONDS))
        with self._db.transaction() as connection:
            connection.execute(
                "UPDATE queue SET visible_at = ? WHERE receipt = ? AND dead = 0", (self._now() + delay, receipt_handle)
            )

    # -- the consumer's side ---------------------------------------------------------------------
    def receive(self, max_messages: int = MAX_BATCH, issuance_id: str | None = None) -> list[ReceivedMessage]:
        """Up to ``max_messages`` visible messages (of one issuance, if given), hidden for the
        visibility timeout; those past ``max_receives`` move to the dead-letter queue instead."""
        now = self._now()
        received: list[ReceivedMessage] = []
        with self._db.transaction() as connection:
            where = "dead = 0 AND visible_at <= ?" + (" AND issuance_id = ?" if issuance_id is not None else "")
            arguments = (now, issuance_id) if issuance_id is not None else (now,)
            rows = connection.execute(
                f"SELECT * FROM queue WHERE {where} ORDER BY visible_at, sent_at LIMIT ?",
                (*arguments, max_messages),
            ).fetchall()
            for row in rows:
                if row["receive_count"] >= self._max_receives:
                    connection.execute(
                        "UPDATE queue SET dead = 1, visible_at = ?, receipt = NULL, receiver = NULL "
                        "WHERE message_id = ?",
                        (now, row["message_id"]),
                    )
                    continue
                receipt = str(uuid.uuid4())
                first = row["first_received_at"] or now
                connection.execute(
                    "UPDATE queue SET receive_count = receive_count + 1, visible_at = ?, receipt = ?, receiver = ?, "
                    "first_received_at = ? WHERE message_id = ?",
                    (now + self._visibility, receipt, self._owner, first, row["message_id"]),
                )
                received.append(
                    ReceivedMessage(
                        row["message_id"], receipt, row["body"], row["receive_count"] + 1, row["sent_at"], first
                    )
                )
        return received

    def delete(self, receipt_handle: str) -> bool:
        with self._db.transaction() as connection:
            return (
                connection.execute("DELETE FROM queue WHERE receipt = ? AND dead = 0", (receipt_handle,)).rowcount > 0
            )

    def release_dead_receivers(self) -> int:
        """Messages received by processes that died are visible again now (no receive is undone)."""
        now = self._now()
        with self._db.transaction() as connection:
            receivers = [
                row["receiver"]
                for row in connection.execute(
                    "SELECT DISTINCT receiver FROM queue WHERE dead = 0 AND receiver IS NOT NULL AND visible_at > ?",
                    (now,),
                )
            ]
            released = 0
            for receiver in receivers:
                if receiver != self._owner and not is_alive(receiver):
                    released += connection.execute(
                        "UPDATE queue SET visible_at = ?, receiver = NULL WHERE receiver = ? AND dead = 0 "
                        "AND visible_at > ?",
                        (now, receiver, now),
                    ).rowcount
        return released

    def pending(self, issuance_id: str | None = None) -> int:
        """Messages not dead (visible or not), of one issuance if given."""
        where, arguments = ("dead = 0", ()) if issuance_id is None else ("dead = 0 AND issuance_id = ?", (issuance_id,))
        (count,) = self._db.connection().execute(f"SELECT COUNT(*) FROM queue WHERE {where}", arguments).fetchone()
        return int(count)

    def next_visible_in(self, issuance_id: str | None = None) -> float | None:
        """Seconds until the next message becomes visible (0: now); None when there is none."""
        where, arguments = ("dead = 0", ()) if issuance_id is None else ("dead = 0 AND issuance_id = ?", (issuance_id,))
        (soonest,) = (
            self._db.connection().execute(f"SELECT MIN(visible_at) FROM queue WHERE {where}", arguments).fetchone()
        )
        return None if soonest is None else max(0.0, float(soonest) - self._now())


class SqliteDeadLetterQueue:
    """The push queue's dead letters (rows with ``dead = 1``)."""

    def __init__(self, database: Database, now: Callable[[], float] = time.time) -> None:
        self._db = database
        self._now = now

    def receive(self, max_messages: int, hide_seconds: int) -> list[DeadLetter]:
        now = self._now()
        letters: list[DeadLetter] = []
        with self._db.transaction() as connection:
            rows = connection.execute(
                "SELECT message_id, body FROM queue WHERE dead = 1 AND visible_at <= ? ORDER BY sent_at LIMIT ?",
                (now, max(1, min(MAX_BATCH, max_messages))),
            ).fetchall()
            for row in rows:
                receipt = str(uuid.uuid4())
                connection.execute(
                    "UPDATE queue SET visible_at = ?, receipt = ? WHERE message_id = ?",
                    (now + hide_seconds, receipt, row["message_id"]),
                )
                letters.append(DeadLetter(message_id=row["message_id"], receipt_handle=receipt, body=row["body"]))
        return letters

    def release(self, letters: Sequence[DeadLetter]) -> None:
        with self._db.transaction() as connection:
            connection.executemany(
                "UPDATE queue SET visible_at = ? WHERE receipt = ? AND dead = 1",
                [(self._now(), letter.receipt_handle) for letter in letters],
            )

    def delete(self, letter: DeadLetter) -> None:
        with self._db.transaction() as connection:
            connection.execute("DELETE FROM queue WHERE receipt = ? AND dead = 1", (letter.receipt_handle,))
