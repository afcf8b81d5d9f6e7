"""Dead-letter use cases (certpush_cli.logic.dead_letters) on the fakes: listing takes nothing away;
a redrive deletes a letter only once the push queue accepted it."""

from __future__ import annotations

import pytest

from certpush.models.domain import TargetOptions
from certpush.models.messages import DeadLetter, PushMessage
from certpush_cli.logic.dead_letters import DeadLetters, describe
from tests.fakes import FakeQueue, InMemoryDeadLetterQueue

pytestmark = pytest.mark.unit


def _body(n: int) -> str:
    return PushMessage(
        push_id=f"p{n}", issuance_id="i", certificate_id="shop", version=1, provider="aws", service="elb",
        region="us-east-1", options=TargetOptions(),
    ).model_dump_json()  # fmt: skip


def test_peek_lists_every_letter_and_leaves_them_visible() -> None:
    dead = InMemoryDeadLetterQueue([_body(n) for n in range(12)] + ["{junk"])

    letters = DeadLetters(dead=dead, queue=FakeQueue()).peek(limit=100)

    assert len(letters) == 13
    assert dead.hidden == set() and len(dead.letters) == 13
    assert describe(letters[0]) == "shop v1 aws:elb:us-east-1 push p0"
    assert describe(letters[-1]) == "(not a push message) {junk"


def test_peek_stops_at_the_limit() -> None:
    dead = InMemoryDeadLetterQueue([_body(n) for n in range(25)])

    assert len(DeadLetters(dead=dead, queue=FakeQueue()).peek(limit=12)) == 12
    assert dead.hidden == set()


def test_redrive_moves_every_letter_body_unchanged() -> None:
    bodies = [_body(n) for n in range(15)] + ["{junk"]
    dead, queue = InMemoryDeadLetterQueue(bodies), FakeQueue()
    moved: list[DeadLetter] = []

    outcome = DeadLetters(dead=dead, queue=queue).redrive(limit=1000, on_moved=moved.append)

    assert (outcome.moved, outcome.refused) == (16, 0)
    assert queue.bodies == bodies and [m.body for m in moved] == bodies
    assert dead.letters == {}


def test_a_refused_letter_stays_dead_lettered_and_the_redrive_stops() -> None:
    dead, queue = InMemoryDeadLetterQueue([_body(n) for n in range(15)]), FakeQueue(accepts=12)

    outcome = DeadLetters(dead=dead, queue=queue).redrive(limit=1000)

    assert (outcome.moved, outcome.refused) == (12, 3)
    assert len(dead.letters) == 3 and len(queue.bodies) == 12


def test_redrive_stops_at_the_limit() -> None:
    dead, queue = InMemoryDeadLetterQueue([_body(n) for n in range(15)]), FakeQueue()

    assert DeadLetters(dead=dead, queue=queue).redrive(limit=4).moved == 4
    assert len(dead.letters) == 11
