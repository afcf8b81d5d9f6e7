"""Contracts of the ports the CLI's use cases speak to, run against the in-memory fake the unit
tests use, the adapter on the stack built from template.yaml (moto) and the one-machine host's SQLite
adapter: the dead-letter queue, the queue dead letters go back to, and the push queue (the records
repository, the certificate store and the policy store have theirs beside their adapters' tests).
Where they disagree, the port's docstrings win."""

from __future__ import annotations

from typing import Any

import pytest

from certpush.adapters.sqs_queue import SqsPushQueue
from certpush.models.domain import TargetOptions
from certpush.models.messages import PushMessage
from certpush.ports import DeadLetterQueue, PushQueue, RedriveQueue
from certpush_cli.adapters.sqs_dead_letters import SqsDeadLetterQueue
from certpush_cli.host.queue import SqliteDeadLetterQueue, SqlitePushQueue
from certpush_dev.local.provision import ProvisionedStack
from tests.fakes import FakeQueue, InMemoryDeadLetterQueue

pytestmark = pytest.mark.integration

BODIES = ['{"n": 1}', '{"n": 2}', "not json at all"]


@pytest.fixture(params=["in-memory", "sqs", "sqlite"])
def dead_letters(request: pytest.FixtureRequest) -> DeadLetterQueue:
    if request.param == "in-memory":
        return InMemoryDeadLetterQueue(BODIES)
    if request.param == "sqlite":
        database = request.getfixturevalue("host_database")
        queue = SqlitePushQueue(database, max_receives=1)
        queue.send_bodies(BODIES)
        for message in queue.receive(10):  # received once, never deleted: the next receive moves them
            queue.retry_later(message.receipt, 0)
        assert queue.receive(10) == []
        return SqliteDeadLetterQueue(database)
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    sqs: Any = request.getfixturevalue("sqs")
    url = stack.outputs["PushDeadLetterQueueUrl"]
    for body in BODIES:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return SqsDeadLetterQueue(url, sqs, wait_seconds=0)


@pytest.fixture(params=["in-memory", "sqs", "sqlite"])
def redrive_queue(request: pytest.FixtureRequest) -> tuple[RedriveQueue, Any]:
    return _queue_and_bodies(request)


@pytest.fixture(params=["in-memory", "sqs", "sqlite"])
def push_queue(request: pytest.FixtureRequest) -> tuple[PushQueue, Any]:
    return _queue_and_bodies(request)


def _queue_and_bodies(request: pytest.FixtureRequest) -> tuple[FakeQueue | SqsPushQueue | SqlitePushQueue, Any]:
    if request.param == "in-memory":
        fake = FakeQueue()
        return fake, lambda: [*fake.bodies, *(m.model_dump_json() for m in fake.messages)]
    if request.param == "sqlite":
        queue = SqlitePushQueue(request.getfixturevalue("host_database"))
        return queue, lambda: [m.body for m in queue.receive(100)]
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    sqs: Any = request.getfixturevalue("sqs")
    url = stack.outputs["PushQueueUrl"]

    def bodies() -> list[str]:
        found: list[str] = []
        while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        ):
            found += [m["Body"] for m in received]
        return found

    return SqsPushQueue(url, sqs), bodies


def test_received_letters_are_hidden_until_released(dead_letters: DeadLetterQueue) -> None:
    received = dead_letters.receive(10, hide_seconds=60)

    assert sorted(m.body for m in received) == sorted(BODIES)
    assert len({m.message_id for m in received}) == 3
    assert dead_letters.receive(10, hide_seconds=60) == []
    dead_letters.release(received)
    assert sorted(m.body for m in dead_letters.receive(10, hide_seconds=60)) == sorted(BODIES)


def test_a_deleted_letter_is_gone_for_good(dead_letters: DeadLetterQueue) -> None:
    received = dead_letters.receive(10, hide_seconds=60)
    [gone] = [m for m in received if m.body == BODIES[0]]

    dead_letters.delete(gone)
    dead_letters.release([m for m in received if m is not gone])

    assert sorted(m.body for m in dead_letters.receive(10, hide_seconds=60)) == sorted(BODIES[1:])


def test_at_most_ten_letters_per_receive(dead_letters: DeadLetterQueue) -> None:
    assert len(dead_letters.receive(2, hide_seconds=60)) <= 2


def test_bodies_go_back_unchanged_and_every_index_is_accepted(redrive_queue: tuple[RedriveQueue, Any]) -> None:
    queue, bodies = redrive_queue

    accepted = queue.send_bodies(BODIES)

    assert accepted == {0, 1, 2}
    assert sorted(bodies()) == sorted(BODIES)


def test_every_push_message_is_sent_whole(push_queue: tuple[PushQueue, Any]) -> None:
    queue, bodies = push_queue
    messages = [
        PushMessage(push_id=f"p{n}", issuance_id="i", certificate_id="shop", version=1, provider="aws",
                    service="cloudfront", region="global", options=TargetOptions(attach=("E1",)))
        for n in range(12)
    ]  # fmt: skip

    queue.send(messages)

    received = sorted((PushMessage.model_validate_json(b) for b in bodies()), key=lambda m: int(m.push_id[1:]))
    assert received == messages
