"""An issuance is resolved once: a redelivered or replayed "Certificate Issued" event keeps the version
and the targets its first validation recorded, leaves a final target as it is, and pushes no target
retracted since (issue 20: an archived v1 issuance, sent without a version, was resolved again to the
newest version and re-created a certificate just retracted)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certpush.errors import PermanentPushError
from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, TargetKey, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.providers.registry import REGISTRY
from certpush_cli.sample_certificates import SampleCertificate
from tests.fakes import (
    FakeQueue,
    FixedClock,
    InMemoryCertificateStore,
    InMemoryPolicyStore,
    InMemoryRecordsRepository,
    InMemoryReplayLog,
    ScriptedTarget,
)
from tests.unit.conftest import CERTIFICATE_ID, material_of

pytestmark = pytest.mark.unit

US = TargetKey(provider="aws", service="elb", region="us-east-1")
EU = TargetKey(provider="aws", service="elb", region="eu-west-1")
DETAIL = CertificateIssuedDetail(  # as `certpush push ID --to aws:elb=us-east-1,eu-west-1` sends it: no version
    certificate_id=CERTIFICATE_ID,
    targets=[TargetSpec(provider="aws", service="elb", regions=["us-east-1", "eu-west-1"])],
    issuance_id="issuance-1",
)


@pytest.fixture
def replays() -> InMemoryReplayLog:
    return InMemoryReplayLog()


@pytest.fixture
def validator(
    store: InMemoryCertificateStore,
    policies: InMemoryPolicyStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    clock: FixedClock,
    replays: InMemoryReplayLog,
) -> Validator:
    return Validator(store=store, policies=policies, records=records, queue=queue, clock=clock, catalog=REGISTRY,
                     replays=replays)  # fmt: skip


def _push_all(worker: PushWorker, queue: FakeQueue, start: int = 0) -> list[PushRecord | None]:
    return [worker.process(message, receive_count=1) for message in queue.messages[start:]]


def test_a_redelivered_issuance_keeps_its_version_after_a_newer_one_is_imported(
    validator: Validator,
    worker: PushWorker,
    queue: FakeQueue,
    records: InMemoryRecordsRepository,
    hosted_certificate: CertificateVersion,
    renewed: SampleCertificate,
    store_certificate: Callable[..., CertificateVersion],
) -> None:
    first = validator.validate(DETAIL, "event-1")
    _push_all(worker, queue)
    assert store_certificate(material_of(renewed)).version == 2

    again = validator.validate(DETAIL, "event-1-redelivered")  # same issuance id, the archive's copy

    assert first.queued == [US, EU] and again.queued == [] and again.rejected == {}
    assert again.actions == {str(US): "FINAL:SUCCEEDED", str(EU): "FINAL:SUCCEEDED"}
    assert len(queue.messages) == 2
    assert {r.version for r in records.list_current(CERTIFICATE_ID)} == {1}  # nothing of version 2
    assert len(records.history(CERTIFICATE_ID, 100)) == 2


def test_a_replayed_issuance_leaves_a_retracted_target_alone_and_says_so(
    validator: Validator,
    worker: PushWorker,
    queue: FakeQueue,
    records: InMemoryRecordsRepository,
    replays: InMemoryReplayLog,
    aws_elb: ScriptedTarget,
    hosted_certificate: CertificateVersion,
) -> None:
    validator.validate(DETAIL, "event-1")
    pushed = _push_all(worker, queue)
    us = next(r for r in pushed if r is not None and r.target == US)
    assert records.record_retraction(us.model_copy(update={"message": "retracted"}))

    outcome = validator.validate(DETAIL, "replayed-1", replay_name="replay-a")

    assert outcome.queued == [] and len(queue.messages) == 2
    assert outcome.actions == {str(US): "RETRACTED", str(EU): "FINAL:SUCCEEDED"}
    retracted = records.get(CERTIFICATE_ID, 1, US)
    assert retracted is not None and retracted.status is PushStatus.RETRACTED
    [report] = replays.reports("replay-a")
    assert (report.issuance_id, report.version, report.actions) == ("issuance-1", 1, outcome.actions)
    assert aws_elb.version_held(CERTIFICATE_ID, "eu-west-1") == [1]


def test_a_replayed_event_of_another_issuance_pushes_no_retracted_target(
    validator: Validator,
    worker: PushWorker,
    queue: FakeQueue,
    records: InMemoryRecordsRepository,
    hosted_certificate: CertificateVersion,
) -> None:
    """A retraction after a later push (push --force, its own issuance): the archived first issuance,
    replayed, does not put the certificate back."""
    validator.validate(DETAIL, "event-1")
    _push_all(worker, queue)
    validator.validate(DETAIL.model_copy(update={"issuance_id": "forced", "force": True}), "event-2")
    forced = _push_all(worker, queue, start=2)
    us = next(r for r in forced if r is not None and r.target == US)
    assert records.record_retraction(us)

    outcome = validator.validate(DETAIL, "replayed-1", replay_name="replay-b")

    assert outcome.actions[str(US)] == "RETRACTED"
    assert len(queue.messages) == 4


def test_an_explicit_push_puts_a_retracted_target_back(
    validator: Validator,
    worker: PushWorker,
    queue: FakeQueue,
    records: InMemoryRecordsRepository,
    hosted_certificate: CertificateVersion,
) -> None:
    validator.validate(DETAIL, "event-1")
    us = next(r for r in _push_all(worker, queue) if r is not None and r.target == US)
    assert records.record_retraction(us)

    outcome = validator.validate(DETAIL.model_copy(update={"issuance_id": "push-again"}), "event-3")

    assert outcome.queued == [US]  # a new issuance (certpush push): RETRACTED gives way
    assert outcome.actions[str(EU)] == "REJECTED:ALREADY_PUSHED"


def test_a_replayed_issuance_pushes_again_what_another_issuance_left_failed(
    validator: Validator,
    worker: PushWorker,
    queue: FakeQueue,
    aws_elb: ScriptedTarget,
    replays: InMemoryReplayLog,
    hosted_certificate: CertificateVersion,
) -> None:
    single = DETAIL.model_copy(update={"targets": [TargetSpec(provider="aws", service="elb", regions=["us-east-1"])]})
    validator.validate(single, "event-1")
    _push_all(worker, queue)
    aws_elb.errors.append(PermanentPushError("AccessDenied", "no"))
    validator.validate(single.model_copy(update={"issuance_id": "later", "force": True}), "event-2")
    assert _push_all(worker, queue, start=1)[0].status is PushStatus.FAILED  # type: ignore[union-attr]

    outcome = validator.validate(single, "replayed", replay_name="replay-c")

    assert outcome.actions == {str(US): "PUSHED"} and outcome.queued == [US]
    assert _push_all(worker, queue, start=2)[0].status is PushStatus.SUCCEEDED  # type: ignore[union-attr]
    assert replays.reports("replay-c")[0].actions == {str(US): "PUSHED"}


def test_policies_changed_since_the_first_validation_do_not_change_its_targets(
    validator: Validator,
    queue: FakeQueue,
    policies: InMemoryPolicyStore,
    hosted_certificate: CertificateVersion,
) -> None:
    from certpush.models.domain import PushPolicy

    policies.put_policy(PushPolicy(name="p", pattern="*", targets=[TargetSpec(provider="aws", service="elb",
                                                                               regions=["us-east-1"])]))  # fmt: skip
    by_policy = CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=1, issuance_id="by-policy")
    validator.validate(by_policy, "event-1")
    policies.put_policy(PushPolicy(name="p", pattern="*", targets=[TargetSpec(provider="aws", service="elb",
                                                                               regions=["eu-west-1"])]))  # fmt: skip

    outcome = validator.validate(by_policy, "event-1-again")

    assert outcome.queued == [US]  # resent (still PENDING): the recorded target, not the policy's new one
    assert [m.target for m in queue.messages] == [US, US]
