"""Forced re-push (validator + worker) and retract (logic.retract) against ports and fakes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, RejectReason, TargetKey, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush_cli.logic.retract import Retractor, RetractStatus
from certpush_cli.sample_certificates import make_certificate
from tests.fakes import FakeQueue, FixedClock, InMemoryRecordsRepository, ScriptedTarget
from tests.unit.conftest import CERTIFICATE_ID, DOMAIN, NOW, SANS, material_of

pytestmark = pytest.mark.unit

US_EAST_1 = TargetKey(provider="aws", service="elb", region="us-east-1")
SPEC = TargetSpec(provider="aws", service="elb", regions=["us-east-1"])


@pytest.fixture
def push(validator: Validator, worker: PushWorker, queue: FakeQueue) -> Callable[..., list[PushRecord]]:
    """Validates an issuance and runs every message it queued through the worker."""
    counter = iter(range(1000))

    def run(version: int | None = None, *, force: bool = False) -> list[PushRecord]:
        before = len(queue.messages)
        detail = CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=version, targets=[SPEC], force=force)
        validator.validate(detail, f"event-{next(counter)}")
        finished = [worker.process(message, receive_count=1) for message in queue.messages[before:]]
        return [record for record in finished if record is not None]

    return run


@pytest.fixture
def retractor(records: InMemoryRecordsRepository, aws_elb: ScriptedTarget, clock: FixedClock) -> Retractor:
    return Retractor(records=records, targets={("aws", "elb"): aws_elb}, clock=clock)


def test_force_pushes_again_what_is_recorded_as_present(
    push: Callable[..., list[PushRecord]],
    hosted_certificate: CertificateVersion,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
) -> None:
    [first] = push()
    assert push() == []  # without --force: ALREADY_PUSHED
    assert records.history(CERTIFICATE_ID)[0].reason == RejectReason.ALREADY_PUSHED.value
    aws_elb.stored.clear()  # someone deleted it in the console
    [forced] = push(force=True)
    assert forced.status is PushStatus.SUCCEEDED and forced.forced
    assert len(aws_elb.calls) == 2
    assert records.history(CERTIFICATE_ID)[0].forced
    assert records.get(CERTIFICATE_ID, first.version, US_EAST_1) == forced


def test_retract_refuses_while_in_use_then_deletes(
    push: Callable[..., list[PushRecord]],
    hosted_certificate: CertificateVersion,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    retractor: Retractor,
) -> None:
    [pushed] = push()
    assert pushed.target_id
    aws_elb.users[pushed.target_id] = ["listener app/web"]
    [refused] = retractor.retract(CERTIFICATE_ID, [US_EAST_1])
    assert refused.status is RetractStatus.IN_USE and "listener app/web" in refused.message
    assert aws_elb.retracted == []
    aws_elb.users.clear()
    [done] = retractor.retract(CERTIFICATE_ID, [US_EAST_1])
    assert done.status is RetractStatus.RETRACTED and aws_elb.retracted == [pushed.target_id]
    retracted = records.get(CERTIFICATE_ID, pushed.version, US_EAST_1)
    assert retracted is not None and retracted.status is PushStatus.RETRACTED
    assert records.binding(CERTIFICATE_ID, US_EAST_1) is None
    assert retractor.retract(CERTIFICATE_ID, [US_EAST_1])[0].status is RetractStatus.NOTHING
    [again] = push()  # a retracted version may be pushed again
    assert again.status is PushStatus.SUCCEEDED


def test_superseded_retracts_older_versions_only(
    push: Callable[..., list[PushRecord]],
    hosted_certificate: CertificateVersion,
    store_certificate: Callable[..., CertificateVersion],
    aws_elb: ScriptedTarget,
    retractor: Retractor,
) -> None:
    aws_elb.renews_in_place = False  # as where a renewal cannot be in place: a new certificate each version
    [first] = push()
    store_certificate(material_of(make_certificate(DOMAIN, sans=SANS, days=90, not_before=NOW - timedelta(days=1))))
    [second] = push()
    assert first.target_id != second.target_id
    [outcome] = retractor.retract(CERTIFICATE_ID, [US_EAST_1], superseded=True)
    assert outcome.status is RetractStatus.RETRACTED and outcome.versions == (first.version,)
    assert aws_elb.retracted == [first.target_id]


def test_a_certificate_renewed_in_place_is_the_newest_version_not_a_superseded_one(
    records: InMemoryRecordsRepository, aws_elb: ScriptedTarget, retractor: Retractor, clock: FixedClock
) -> None:
    def succeeded(version: int) -> PushRecord:
        record = PushRecord(
            certificate_id=CERTIFICATE_ID, version=version, provider="aws", service="elb", region="us-east-1",
            status=PushStatus.PENDING, issuance_id=f"i{version}", push_id=f"p{version}",
            created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        assert records.start_push(record)
        done = record.model_copy(update={"status": PushStatus.SUCCEEDED, "target_id": "same-arn"})
        assert records.finish(done)
        return done

    succeeded(1), succeeded(2)
    [outcome] = retractor.retract(CERTIFICATE_ID, [US_EAST_1], superseded=True)
    assert outcome.status is RetractStatus.NOTHING and aws_elb.retracted == []
    [outcome] = retractor.retract(CERTIFICATE_ID, [US_EAST_1])
    assert outcome.versions == (1, 2) and aws_elb.retracted == ["same-arn"]
    assert {r.status for r in records.list_current(CERTIFICATE_ID)} == {PushStatus.RETRACTED}
