"""Contracts of the ports the CLI's use cases speak to, run against the in-memory fake the unit
tests use and the adapter on the stack built from template.yaml (moto): the dead-letter queue, the
queue dead letters go back to, and the policy store. Where the two disagree, the port's docstrings win."""

from __future__ import annotations

from typing import Any

import pytest

from certpush.adapters.policy_store import DynamoDBPolicyStore
from certpush.adapters.sqs_dead_letters import SqsDeadLetterQueue
from certpush.adapters.sqs_queue import SqsPushQueue
from certpush.models.domain import PushPolicy, TargetSpec
from certpush.ports import DeadLetterQueue, PolicyStore, RedriveQueue
from certpush_dev.local.provision import ProvisionedStack
from tests.fakes import FakeQueue, InMemoryDeadLetterQueue, InMemoryPolicyStore

pytestmark = pytest.mark.integration

BODIES = ['{"n": 1}', '{"n": 2}', "not json at all"]


@pytest.fixture(params=["in-memory", "sqs"])
def dead_letters(request: pytest.FixtureRequest) -> DeadLetterQueue:
    if request.param == "in-memory":
        return InMemoryDeadLetterQueue(BODIES)
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    sqs: Any = request.getfixturevalue("sqs")
    url = stack.outputs["PushDeadLetterQueueUrl"]
    for body in BODIES:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return SqsDeadLetterQueue(url, sqs, wait_seconds=0)


@pytest.fixture(params=["in-memory", "sqs"])
def redrive_queue(request: pytest.FixtureRequest) -> tuple[RedriveQueue, Any]:
    if request.param == "in-memory":
        fake = FakeQueue()
        return fake, lambda: list(fake.bodies)
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    sqs: Any = request.getfixturevalue("sqs")
    url = stack.outputs["PushQueueUrl"]

    def bodies() -> list[str]:
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return sorted(m["Body"] for m in received.get("Messages", []))

    return SqsPushQueue(url, sqs), bodies


@pytest.fixture(params=["in-memory", "dynamodb"])
def policies(request: pytest.FixtureRequest) -> PolicyStore:
    if request.param == "in-memory":
        return InMemoryPolicyStore()
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    return DynamoDBPolicyStore(stack.outputs["InventoryTableName"], resource=request.getfixturevalue("dynamodb"))


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


def test_policies_are_stored_replaced_listed_and_removed(policies: PolicyStore) -> None:
    aws = TargetSpec(provider="aws", service="elb", regions=["us-east-1"])
    edge = TargetSpec(provider="aws", service="cloudfront")
    policies.put_policy(PushPolicy(name="shop", pattern="*.shop.example.com", targets=[aws]))
    policies.put_policy(PushPolicy(name="blog", pattern="blog.example.com", targets=[aws], enabled=False))
    policies.put_policy(PushPolicy(name="shop", pattern="*.shop.example.com", targets=[aws, edge]))

    found = {p.name: p for p in policies.list_policies()}

    assert set(found) == {"shop", "blog"}
    assert found["shop"].targets == [aws, edge] and not found["blog"].enabled
    assert policies.delete_policy("blog") is True
    assert policies.delete_policy("blog") is False
    assert [p.name for p in policies.list_policies()] == ["shop"]
