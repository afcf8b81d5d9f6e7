"""Webhook deliveries: each event a webhook wants is POSTed to its URL until the receiver answers 2xx,
with exponential backoff, at most ``max_attempts`` times; every attempt is recorded
(``delivery_attempts``) and the delivery ends DELIVERED or FAILED.

The request (the same for every attempt of one delivery, so a receiver can tell a repeat):

    POST <url>
    Content-Type: application/json
    X-Certpush-Event: Certificate Pushed | Certificate Push Summary | Certificate Expiring
    X-Certpush-Delivery: <delivery id>      (unique per event and webhook: dedupe on it)
    X-Certpush-Timestamp: <unix seconds of this attempt>
    X-Certpush-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the webhook's secret>

    {"id": <event id>, "source": "certpush.pushes", "detail-type": ..., "time": ..., "detail": {...}}

Deliveries are at least once: a host killed after the receiver answered and before the answer was
recorded delivers again (same delivery id). The signature covers the timestamp so that a receiver
can refuse replays older than a few minutes, as Stripe and Slack recommend for their webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from certpush_cli.host.database import Database
from certpush_cli.host.home import Webhook
from certpush_cli.host.processes import is_alive

log = logging.getLogger("certpush.host")

BASE_BACKOFF_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 3600.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    webhook: str
    attempts: int
    event_id: str
    detail_type: str
    detail: str
    created_at: str


Sender = Callable[[Webhook, Delivery, bytes, dict[str, str]], int]


def http_sender(client: httpx.Client) -> Sender:
    def send(hook: Webhook, delivery: Delivery, body: bytes, headers: dict[str, str]) -> int:
        response = client.post(str(hook.url), content=body, headers=headers, timeout=hook.timeout_seconds)
        return response.status_code

    return send


class WebhookDeliverer:
    def __init__(
        self,
        database: Database,
        webhooks: list[Webhook],
        *,
        owner: str = "",
        sender: Sender | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._hooks: Mapping[str, Webhook] = {hook.name: hook for hook in webhooks}
        self._owner = owner
        self._client: httpx.Client | None = None
        self._sender = sender
        self._now = now

    def _send(self) -> Sender:
        if self._sender is None:
            self._client = httpx.Client(headers={"User-Agent": "certpush-webhooks"}, follow_redirects=False)
            self._sender = http_sender(self._client)
        return self._sender

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def deliver_due(self, limit: int = 20) -> int:
        """Attempts the deliveries that are due; returns how many were attempted."""
        due = self._claim(limit)
        for delivery in due:
            self._attempt(delivery)
        return len(due)

    def _claim(self, limit: int) -> list[Delivery]:
        now = self._now()
        with self._db.transaction() as connection:
            rows = connection.execute(
                "SELECT d.delivery_id, d.webhook, d.attempts, e.event_id, e.detail_type, e.detail, e.created_at "
                "FROM deliveries d JOIN events e ON e.event_id = d.event_id "
                "WHERE d.status = 'PENDING' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?",
                (now, limit),
            ).fetchall()
            claimed = []
            for row in rows:
                hook = self._hooks.get(row["webhook"])
                if hook is None:  # removed from config.toml since: nothing to send it to
                    connection.execute(
                        "UPDATE deliveries SET status = 'FAILED', last_error = 'webhook no longer configured' "
                        "WHERE delivery_id = ?",
                        (row["delivery_id"],),
                    )
                    continue
                # under way: nobody else takes it until the attempt's time is up (or this process dies)
                connection.execute(
                    "UPDATE deliveries SET next_attempt_at = ?, receiver = ? WHERE delivery_id = ?",
                    (now + hook.timeout_seconds + 30, self._owner, row["delivery_id"]),
                )
                claimed.append(Delivery(*(row[k] for k in row.keys())))  # noqa: SIM118 - sqlite3.Row
        return claimed

    def _attempt(self, delivery: Delivery) -> None:
        hook = self._hooks[delivery.webhook]
        body = json.dumps(
            {
                "id": delivery.event_id,
                "source": "certpush.pushes",
                "detail-type": delivery.detail_type,
                "time": delivery.created_at,
                "detail": json.loads(delivery.detail),
            }
        ).encode()
        stamp = str(int(self._now()))
        headers = {
            "Content-Type": "application/json",
            "X-Certpush-Event": delivery.detail_type,
            "X-Certpush-Delivery": delivery.delivery_id,
            "X-Certpush-Timestamp": stamp,
            "X-Certpush-Signature": signature(hook.secret.get_secret_value(), stamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            status = self._send()(hook, delivery, body, headers)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        self._record(delivery, hook, status, error, int((time.monotonic() - started) * 1000))

    def _record(
        self, delivery: Delivery, hook: Webhook, status: int | None, error: str | None, duration_ms: int
    ) -> None:
        attempts = delivery.attempts + 1
        now = datetime.now(UTC).isoformat()
        if error is None:
            outcome, next_at = "DELIVERED", self._now()
        elif attempts >= hook.max_attempts:
            outcome, next_at = "FAILED", self._now()
        else:
            outcome = "PENDING"
            next_at = self._now() + min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** (attempts - 1))
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT INTO delivery_attempts (delivery_id, attempted_at, status_code, error, duration_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                (delivery.delivery_id, now, status, error, duration_ms),
            )
            connection.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, receiver = NULL, "
                "last_status = ?, last_error = ?, delivered_at = ? WHERE delivery_id = ?",
                (
                    outcome,
                    attempts,
                    next_at,
                    status,
                    error,
                    now if outcome == "DELIVERED" else None,
                    delivery.delivery_id,
                ),
            )
        if error is not None:
            log.warning("webhook %s: delivery %s failed (%s), %s", hook.name, delivery.delivery_id, error, outcome)

    def release_dead_receivers(self) -> int:
        now = self._now()
        with self._db.transaction() as connection:
            receivers = [
                row["receiver"]
                for row in connection.execute(
                    "SELECT DISTINCT receiver FROM deliveries WHERE status = 'PENDING' AND receiver IS NOT NULL"
                )
            ]
            released = 0
            for receiver in receivers:
                if receiver != self._owner and not is_alive(receiver):
                    released += connection.execute(
                        "UPDATE deliveries SET next_attempt_at = ?, receiver = NULL WHERE receiver = ? "
                        "AND status = 'PENDING'",
                        (now, receiver),
                    ).rowcount
        return released

    def pending(self) -> int:
        (count,) = self._db.connection().execute("SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'").fetchone()
        return int(count)
