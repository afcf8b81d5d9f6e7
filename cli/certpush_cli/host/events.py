"""What the notifier and the expiry warning emit, on the host (ports ``EventPublisher`` and
``ExpiryPublisher``): a row in ``events`` per event, in the caller's transaction, and a row in
``deliveries`` for each webhook of the home's config.toml that wants that kind of event. The
webhooks are called later (``webhooks.py``), so a slow or failing receiver never holds up a push.

Each event is the EventBridge event certpush emits on AWS (same ``source``, ``detail-type`` and
``detail``), so the same consumers read both."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

from certpush.models.events import (
    DETAIL_TYPE_EXPIRING,
    DETAIL_TYPE_PUSHED,
    DETAIL_TYPE_SUMMARY,
    NOTIFY_SOURCE,
    CertificateExpiringDetail,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)
from certpush_cli.host.database import Database
from certpush_cli.host.home import Webhook


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event_id: str
    source: str
    detail_type: str
    detail: str
    created_at: str


class SqliteEventPublisher:
    def __init__(
        self, database: Database, webhooks: Sequence[Webhook] = (), now: Callable[[], float] = time.time
    ) -> None:
        self._db = database
        self._webhooks = list(webhooks)
        self._now = now

    @contextmanager
    def batched(self) -> Iterator[None]:
        """The events of the block commit together (one transaction)."""
        with self._db.transaction():
            yield

    def _emit(self, detail_type: str, detail: BaseModel) -> str:
        event_id = str(uuid.uuid4())
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT INTO events (event_id, source, detail_type, detail, created_at) VALUES (?, ?, ?, ?, ?)",
                (event_id, NOTIFY_SOURCE, detail_type, detail.model_dump_json(), datetime.now(UTC).isoformat()),
            )
            connection.executemany(
                "INSERT INTO deliveries (delivery_id, event_id, webhook, status, next_attempt_at) "
                "VALUES (?, ?, ?, 'PENDING', ?)",
                [
                    (str(uuid.uuid4()), event_id, hook.name, self._now())
                    for hook in self._webhooks
                    if detail_type in hook.events
                ],
            )
        return event_id

    def certificate_pushed(self, detail: CertificatePushedDetail) -> None:
        self._emit(DETAIL_TYPE_PUSHED, detail)

    def issuance_summary(self, detail: IssuanceSummaryDetail) -> None:
        self._emit(DETAIL_TYPE_SUMMARY, detail)

    def certificate_expiring(self, detail: CertificateExpiringDetail) -> None:
        self._emit(DETAIL_TYPE_EXPIRING, detail)

    def recent(self, limit: int = 50, detail_type: str | None = None) -> list[StoredEvent]:
        where, arguments = ("", ()) if detail_type is None else ("WHERE detail_type = ?", (detail_type,))
        rows = (
            self._db.connection()
            .execute(f"SELECT * FROM events {where} ORDER BY seq DESC LIMIT ?", (*arguments, limit))
            .fetchall()
        )
        return [
            StoredEvent(r["seq"], r["event_id"], r["source"], r["detail_type"], r["detail"], r["created_at"])
            for r in rows
        ]
