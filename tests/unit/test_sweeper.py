"""Sweeper: a push left PENDING / IN_PROGRESS longer than the bound is re-queued, and after
``max_sweeps`` re-queues without an outcome it ends FAILED (STUCK)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from certpush.logic.push import PushWorker
from certpush.logic.sweeper import STUCK, Sweeper
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, TargetKey, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from tests.fakes import FakeQueue, FixedClock, InMemoryRecordsRepository, claim_push
from tests.unit.conftest import CERTIFICATE_ID

pytestmark = pytest.mark.unit

TARGET = TargetKey(provider="aws", service="elb", region="us-east-1")


@pytest.fixture
def sweeper(records: InMemoryRecordsRepository, queue: FakeQueue, clock: FixedClock) -> Sweeper:
    return Sweeper(records=records, queue=queue, clock=clock, stuck_after=timedelta(minutes=30), max_sweeps=2)


@pytest.fixture
def pending(validator: Validator, queue: FakeQueue, hosted_certificate: CertificateVersion) -> PushRecord:
    """A push the validator recorded PENDING whose message never reached the queue."""
    target = TargetSpec(provider="aws", service="elb", regions=["us-east-1"])
    validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, targets=[target]), "event-1")
    queue.messages.clear()  # lost: the validator died before SendMessageBatch returned
    record = validator.records.get(CERTIFICATE_ID, 1, TARGET)
    assert record is not None
    return record


def _current(records: InMemoryRecordsRepository) -> PushRecord:
    record = records.get(CERTIFICATE_ID, 1, TARGET)
    assert record is not None
    return record


def test_a_recent_push_is_left_alone(sweeper: Sweeper, pending: PushRecord, queue: FakeQueue, clock: FixedClock):
    clock.advance(minutes=29)

    outcome = sweeper.sweep()

    assert (outcome.requeued, outcome.ended, queue.messages) == ([], [], [])


def test_a_push_left_pending_is_queued_again_with_its_own_push_id_and_options(
    sweeper: Sweeper, pending: PushRecord, queue: FakeQueue, clock: FixedClock, records: InMemoryRecordsRepository
):
    clock.advance(minutes=31)

    outcome = sweeper.sweep()

    assert [r.push_id for r in outcome.requeued] == [pending.push_id]
    (message,) = queue.messages
    assert (message.push_id, message.target, message.options) == (pending.push_id, TARGET, pending.options)
    assert _current(records).sweeps == 1
    assert _current(records).status is PushStatus.PENDING
    assert sweeper.sweep().requeued == []  # the re-queue restarted its clock


def test_the_re_queued_message_finishes_the_push(
    sweeper: Sweeper, pending: PushRecord, queue: FakeQueue, clock: FixedClock, worker: PushWorker
):
    clock.advance(minutes=31)
    sweeper.sweep()

    result = worker.process(queue.messages[0], receive_count=1)

    assert result is not None and result.status is PushStatus.SUCCEEDED


def test_after_max_sweeps_without_an_outcome_the_push_ends_failed_stuck_with_its_history(
    sweeper: Sweeper, pending: PushRecord, queue: FakeQueue, clock: FixedClock, records: InMemoryRecordsRepository
):
    for _ in range(2):
        clock.advance(minutes=31)
        assert len(sweeper.sweep().requeued) == 1
    clock.advance(minutes=31)

    outcome = sweeper.sweep()

    (ended,) = outcome.ended
    assert (ended.status, ended.reason) == (PushStatus.FAILED, STUCK)
    assert "re-queued 2 times" in (ended.message or "")
    assert _current(records).status is PushStatus.FAILED
    assert records.history_items[-1].reason == STUCK  # the notifier counts it in the issuance summary
    assert len(queue.messages) == 2


def test_a_push_that_moves_while_being_swept_is_not_re_queued(
    sweeper: Sweeper, pending: PushRecord, queue: FakeQueue, clock: FixedClock, records: InMemoryRecordsRepository
):
    clock.advance(minutes=31)
    (seen,) = records.in_flight_since(clock.now() - timedelta(minutes=30))
    claim_push(records, seen.model_copy(update={"updated_at": clock.now()}))  # a worker got there first

    assert records.note_swept(seen, clock.now()) is False
