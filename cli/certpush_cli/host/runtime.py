"""The host's runtime: what Lambda, EventBridge, SQS and DynamoDB Streams do for the functions on AWS,
done by threads of one process over the home's database, with the same domain objects.

- validation: the inbox's oldest event, validated and removed in one transaction (``Validator``);
- pushes: queue messages received for the free slots of a bounded pool (``PUSH_CONCURRENCY``
  threads) and handed to the push worker's own consumer (``PushConsumer``: the same lease, retry and
  backoff as the Lambda function); a message is deleted once its push is final or stale;
- notifications: history rows not yet notified go through the ``Notifier`` and are marked, with the
  events they made, in one transaction (each outcome notified once, each summary emitted once);
- webhooks: due deliveries POSTed (``webhooks.py``);
- schedules: the sweeper (``sweep_every_seconds``) and the expiry warning (``expiry_every_seconds``),
  their last runs kept in the database so a restart does not run them again early; and every few
  seconds, the claims of processes that died handed back (``processes.py``).

``serve()`` runs all of it until ``stop()``; ``drive(issuance)`` runs one issuance's work in the
calling command (``push --wait``, an import with a push policy) until every target is final. Any
number of these may run on one home at once: claims live in the database, so nothing is pushed
twice."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from pydantic import ValidationError

from certpush.adapters.consumers import PushConsumer
from certpush.errors import PushInProgressError, PushSettlingError, TransientDependencyError
from certpush.logic.push import RetryLater
from certpush.models.domain import PushRecord
from certpush.models.messages import PushMessageRecord
from certpush_cli.host.processes import is_alive
from certpush_cli.host.queue import ReceivedMessage
from certpush_cli.host.webhooks import WebhookDeliverer
from certpush_cli.host.wiring import Host

log = logging.getLogger("certpush.host")

RELEASE_EVERY_SECONDS = 5.0
NOTIFY_BATCH = 100


def sqs_record(message: ReceivedMessage) -> dict[str, Any]:
    """The message as Lambda's SQS event source hands it to the push worker."""
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt,
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(int(message.sent_at * 1000)),
            "SenderId": "certpush-host",
            "ApproximateFirstReceiveTimestamp": str(int(message.first_received_at * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message.body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:local:000000000000:certpush-host-push",
        "awsRegion": "local",
    }


class _Settled(Exception):
    """The issuance being driven needs nothing more."""


class HostRuntime:
    def __init__(self, host: Host, deliverer: WebhookDeliverer | None = None) -> None:
        self.host = host
        config = host.config
        self.consumer = PushConsumer(host.worker, host.queue, metrics=None, concurrency=config.push_concurrency)
        self.deliverer = deliverer or WebhookDeliverer(host.database, config.webhooks, owner=host.owner)
        self._pool = ThreadPoolExecutor(max_workers=config.push_concurrency, thread_name_prefix="push")
        self._slots = threading.Semaphore(config.push_concurrency)
        self._stop = threading.Event()
        self._wake_pushes = threading.Event()
        self._wake_notifier = threading.Event()
        self._threads: list[threading.Thread] = []
        self._released_at = 0.0

    # -- steps (each safe on any thread) ---------------------------------------------------------
    def release_dead(self) -> int:
        """Claims of processes that died: leases end, received messages and deliveries come back."""
        self._released_at = time.monotonic()
        host = self.host
        released = host.records.release_dead_leases(is_alive)
        released += host.queue.release_dead_receivers()
        released += self.deliverer.release_dead_receivers()
        if released:
            log.info("handed back %d claims of processes that stopped", released)
        return released

    def validate_due(self, issuance_id: str | None = None) -> bool:
        """Validates the oldest due event (of one issuance, if given); False when there is none."""
        host = self.host
        event = None
        try:
            with host.database.transaction():
                event = host.inbox.next_due(issuance_id)
                if event is None:
                    return False
                host.validator.validate(event.detail, event.event_id)
                host.inbox.done(event.event_id)
        except Exception as exc:
            if event is None:
                raise
            gave_up = host.inbox.note_failure(event.event_id, f"{type(exc).__name__}: {exc}")
            log.warning("validation of event %s failed (%s)%s", event.event_id, exc, "; given up" if gave_up else "")
        self._wake_pushes.set()
        return True

    def push_one(self, message: ReceivedMessage) -> None:
        """One queue message through the push worker, as one record of a Lambda batch."""
        raw = sqs_record(message)
        try:
            record = PushMessageRecord.model_validate(raw)
        except ValidationError:
            # a poison message: it comes back after the visibility timeout until it is dead-lettered
            log.warning("queue message %s is not a push message", message.message_id)
            return
        try:
            self.consumer.consume(record)
        except (RetryLater, PushInProgressError, PushSettlingError, TransientDependencyError):
            return  # the consumer set when the message comes back
        except Exception as exc:
            # as a failed record of a batch: visible again after the visibility timeout
            log.warning("push of message %s failed: %s: %s", message.message_id, type(exc).__name__, exc)
            return
        self.host.queue.delete(message.receipt)
        self._wake_notifier.set()

    def push_received(
        self, messages: list[ReceivedMessage], on_done: Callable[[], None] | None = None
    ) -> list[Future[None]]:
        self.consumer.prepare([sqs_record(m) for m in messages])
        futures = []
        for message in messages:
            future = self._pool.submit(self.push_one, message)
            if on_done is not None:
                future.add_done_callback(lambda _: on_done())
            futures.append(future)
        return futures

    def notify_due(self, limit: int = NOTIFY_BATCH) -> int:
        """Final outcomes not yet notified: events written and rows marked in one transaction."""
        host = self.host
        with host.database.transaction() as connection:
            rows = connection.execute(
                "SELECT seq, record FROM history WHERE notified = 0 ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
            if not rows:
                return 0
            with host.notifier.batch():
                for row in rows:
                    host.notifier.on_final(PushRecord.model_validate_json(row["record"]))
            connection.executemany("UPDATE history SET notified = 1 WHERE seq = ?", [(row["seq"],) for row in rows])
        return len(rows)

    def deliver_due(self) -> int:
        return self.deliverer.deliver_due() if self.host.config.webhooks else 0

    def _due(self, name: str, every: float) -> bool:
        now = time.time()
        with self.host.database.transaction() as connection:
            row = connection.execute("SELECT last_run FROM schedules WHERE name = ?", (name,)).fetchone()
            if row is not None and now - row["last_run"] < every:
                return False
            connection.execute("INSERT OR REPLACE INTO schedules (name, last_run) VALUES (?, ?)", (name, now))
        return True

    def run_schedules(self) -> bool:
        """Runs what is due; False (nothing to hurry back for)."""
        host = self.host
        if time.monotonic() - self._released_at >= RELEASE_EVERY_SECONDS:
            self.release_dead()
        if self._due("sweeper", host.config.sweep_every_seconds):
            with host.database.transaction():  # a re-queue and its message commit together
                outcome = host.sweeper.sweep()
            if outcome.requeued:
                self._wake_pushes.set()
        if self._due("expiry-warning", host.config.expiry_every_seconds):
            host.expiry.run()
        return False

    # -- serve -----------------------------------------------------------------------------------
    def _loop(self, name: str, step: Callable[[], bool], idle: float, wake: threading.Event | None = None) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    busy = step()
                except Exception as exc:
                    log.warning("%s: %s: %s", name, type(exc).__name__, exc)
                    busy = False
                if not busy:
                    if wake is None:
                        self._stop.wait(idle)
                    else:
                        wake.wait(idle)
                        wake.clear()

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _slot_freed(self) -> None:
        self._slots.release()
        self._wake_pushes.set()  # a free slot: look for the next message now, not at the next poll

    def _receive_step(self) -> bool:
        """Receives for every free slot (ten messages a receive, as SQS hands out) and starts them."""
        started = 0
        while not self._stop.is_set():
            free = 0
            while free < 10 and self._slots.acquire(blocking=False):
                free += 1
            if not free:
                return started > 0
            messages = self.host.queue.receive(free)
            for _ in range(free - len(messages)):
                self._slots.release()
            if not messages:
                return started > 0
            self.push_received(messages, on_done=self._slot_freed)
            started += len(messages)
        return False

    def start(self) -> HostRuntime:
        poll = self.host.config.poll_seconds
        self.release_dead()
        self._loop("validator", self.validate_due, poll)
        self._loop("pushes", self._receive_step, poll, self._wake_pushes)
        self._loop("notifier", lambda: self.notify_due() > 0, poll, self._wake_notifier)
        self._loop("webhooks", lambda: self.deliver_due() > 0, max(poll, 1.0))
        self._loop("schedules", self.run_schedules, 1.0)
        return self

    def stop(self, grace_seconds: float = 60) -> None:
        """Stops taking work; pushes under way finish (their HTTP calls have timeouts of their own),
        then the last outcomes are notified."""
        self._stop.set()
        self._wake_pushes.set()
        self._wake_notifier.set()
        for thread in self._threads:
            thread.join(timeout=grace_seconds)
        self._pool.shutdown(wait=True)
        try:
            while self.notify_due():
                continue
        except Exception as exc:  # the next start notifies them
            log.warning("notifier at stop: %s", exc)
        self.deliverer.close()

    # -- drive one issuance ----------------------------------------------------------------------
    def _drive_step(self, issuance_id: str) -> bool:
        host = self.host
        busy = False
        while self.validate_due(issuance_id):
            busy = True
        messages = host.queue.receive(host.config.push_concurrency, issuance_id)
        if messages:
            wait(self.push_received(messages))
            busy = True
        if self.notify_due():
            busy = True
        progress = host.records.get_issuance(issuance_id)
        if progress is not None and progress.done:
            raise _Settled
        if progress is None and not host.inbox.pending(issuance_id):
            raise _Settled  # validated to no target at all (no push policy matched)
        return busy

    def drive(self, issuance_id: str, timeout: float, stop: threading.Event | None = None) -> None:
        """Validates and pushes one issuance in this process until every target is final, the
        issuance turns out to have no targets, ``timeout`` passes or ``stop`` is set."""
        host = self.host
        deadline = time.monotonic() + timeout
        stop = stop or threading.Event()
        self.release_dead()
        while time.monotonic() < deadline and not stop.is_set():
            try:
                busy = self._drive_step(issuance_id)
            except _Settled:
                break
            except Exception as exc:  # e.g. the database busy for too long: try again shortly
                log.warning("%s: %s", type(exc).__name__, exc)
                busy = False
            if not busy:
                soonest = host.queue.next_visible_in(issuance_id)
                pause = host.config.poll_seconds if soonest is None else min(host.config.poll_seconds, soonest)
                stop.wait(max(0.02, pause))
        try:
            self.deliver_due()  # best effort: `certpush serve` retries what is left
        except Exception as exc:
            log.warning("webhooks: %s", exc)
        self._pool.shutdown(wait=True)
        self.deliverer.close()
