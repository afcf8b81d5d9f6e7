"""Sweeper: no push stays in flight. A PENDING or IN_PROGRESS record that nobody touched for
``stuck_after`` lost its message (the validator failed after writing it, a worker died and the
message went to the dead-letter queue, a message expired...). The sweeper sends its message again;
after ``max_sweeps`` re-queues without an outcome it ends the push FAILED with reason ``STUCK``.

Re-queueing is safe: the worker runs a push once per ``push_id`` and the adapters find what an
earlier attempt made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from certpush.models.domain import PushRecord, PushStatus
from certpush.models.messages import PushMessage
from certpush.ports import Clock, PushFinish, PushQueue, StuckPushes

logger = Logger(child=True)

STUCK = "STUCK"


@dataclass
class SweepOutcome:
    requeued: list[PushRecord] = field(default_factory=list)
    ended: list[PushRecord] = field(default_factory=list)


@dataclass
class Sweeper:
    records: StuckPushes
    queue: PushQueue
    clock: Clock
    stuck_after: timedelta
    max_sweeps: int

    def sweep(self) -> SweepOutcome:
        now = self.clock.now()
        outcome = SweepOutcome()
        messages: list[PushMessage] = []
        for record in self.records.in_flight_since(now - self.stuck_after):
            if record.sweeps >= self.max_sweeps:
                ended = end_stuck(self.records, record, now, f"re-queued {record.sweeps} times without an outcome")
                if ended is not None:
                    outcome.ended.append(ended)
                continue
            if self.records.note_swept(record, now):
                messages.append(PushMessage.of(record))
                outcome.requeued.append(record)
        if messages:
            self.queue.send(messages)
        logger.info(
            "sweep done",
            extra={"requeued": [r.push_id for r in outcome.requeued], "ended": [r.push_id for r in outcome.ended]},
        )
        return outcome


def end_stuck(records: PushFinish, record: PushRecord, now: datetime, why: str) -> PushRecord | None:
    """Ends an in-flight push FAILED ``STUCK``; None when it reached a final state meanwhile."""
    idle = int((now - record.updated_at).total_seconds())
    final = record.model_copy(
        update={
            "status": PushStatus.FAILED,
            "reason": STUCK,
            "message": f"left {record.status.value} for {idle}s: {why}",
            "updated_at": now,
            # ended without its claim: never while a worker's lease still runs (PushFinish.finish)
            "lease_token": None,
            "lease_until": None,
        }
    )
    if not records.finish(final):
        return None
    logger.warning("stuck push ended", extra={"push_id": record.push_id, "idle_seconds": idle})
    return final
