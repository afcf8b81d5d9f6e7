"""Use cases on the dead-letter queue: push messages the worker could not finish at all (it crashed
or timed out ``PushMaxAttempts`` times). Their records stay IN_PROGRESS until they are redriven.

Written on receive / send / delete rather than SQS's StartMessageMoveTask, which moto does not
implement, so that it works the same on every stack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from certpush.models.messages import DeadLetter, PushMessage
from certpush.ports import DeadLetterQueue, RedriveQueue

BATCH = 10
HIDE_SECONDS = 60


def describe(letter: DeadLetter) -> str:
    """One line: which certificate version went where, or the start of a body that is no push message."""
    try:
        message = PushMessage.model_validate_json(letter.body)
    except ValueError:
        return f"(not a push message) {letter.body[:80]}"
    return f"{message.certificate_id} v{message.version} {message.target} push {message.push_id}"


@dataclass(frozen=True)
class RedriveOutcome:
    moved: int
    refused: int


@dataclass
class DeadLetters:
    dead: DeadLetterQueue
    queue: RedriveQueue

    def peek(self, limit: int) -> list[DeadLetter]:
        """The letters in the queue, up to ``limit``; they stay there (visible again at once)."""
        seen: dict[str, DeadLetter] = {}
        try:
            while len(seen) < limit:
                batch = [m for m in self.dead.receive(BATCH, HIDE_SECONDS) if m.message_id not in seen]
                if not batch:
                    break
                seen.update((m.message_id, m) for m in batch)
        finally:
            self.dead.release(list(seen.values()))
        return list(seen.values())[:limit]

    def redrive(self, limit: int, on_moved: Callable[[DeadLetter], None] = lambda letter: None) -> RedriveOutcome:
        """Sends letters back to the push queue. Each is deleted from the dead-letter queue only after
        the push queue accepted it: nothing is lost if this stops half-way. Stops at the first refusal."""
        moved = 0
        while moved < limit:
            batch = self.dead.receive(min(BATCH, limit - moved), HIDE_SECONDS)
            if not batch:
                break
            accepted = self.queue.send_bodies([m.body for m in batch])
            for index in sorted(accepted):
                self.dead.delete(batch[index])
                on_moved(batch[index])
            moved += len(accepted)
            if len(accepted) < len(batch):
                return RedriveOutcome(moved=moved, refused=len(batch) - len(accepted))
        return RedriveOutcome(moved=moved, refused=0)
