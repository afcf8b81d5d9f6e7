"""Validator: a "Certificate Issued" event -> PENDING records and queue messages, or REJECTED
records with a reason and a message a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certpush.errors import PermanentPushError
from certpush.logic.push import PushWorker
from certpush.logic.validation import ValidationOutcome, Validator
from certpush.models.domain import (
    MAX_REGIONS_PER_SERVICE,
    CertificateMaterial,
    CertificateStatus,
    CertificateVersion,
    PushPolicy,
    PushStatus,
    RejectReason,
    TargetKey,
    TargetOptions,
    TargetSpec,
)
from certpush.models.events import CertificateIssuedDetail
from certpush.providers.aws.elb import REGIONS as AWS_ELB_REGIONS
from certpush.providers.registry import REGISTRY
from certpush_cli.sample_certificates import SampleCertificate, make_certificate, other_private_key
from tests.fakes import (
    FakeQueue,
    FixedClock,
    InMemoryCertificateStore,
    InMemoryPolicyStore,
    InMemoryRecordsRepository,
    ScriptedTarget,
)
from tests.unit.conftest import CERTIFICATE_ID, NOW, material_of

pytestmark = pytest.mark.unit

US_EAST_1 = TargetKey(provider="aws", service="elb", region="us-east-1")
EU_WEST_1 = TargetKey(provider="aws", service="elb", region="eu-west-1")
WAF_AP = TargetKey(provider="huaweicloud", service="waf", region="ap-southeast-1")


def spec(provider: str, service: str, *regions: str, **options: tuple[str, ...]) -> TargetSpec:
    return TargetSpec(provider=provider, service=service, regions=list(regions), options=TargetOptions(**options))


def issued(*targets: TargetSpec, version: int | None = None, issuance_id: str | None = None) -> CertificateIssuedDetail:
    return CertificateIssuedDetail(
        certificate_id=CERTIFICATE_ID, version=version, targets=list(targets) or None, issuance_id=issuance_id
    )


def assert_all_rejected(
    outcome: ValidationOutcome,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    keys: list[TargetKey],
    reason: RejectReason,
    *,
    version: int = 1,
    says: str = "",
) -> None:
    assert queue.messages == []
    assert outcome.queued == []
    assert sorted(outcome.rejected) == sorted(str(k) for k in keys)
    for key in keys:
        assert outcome.rejected[str(key)].reason is reason
        record = records.get(CERTIFICATE_ID, version, key)
        assert record is not None
        assert record.status is PushStatus.REJECTED
        assert record.reason == reason.value
        assert record.message
        assert says in record.message
        assert record.issuance_id == outcome.issuance_id
    history = records.history(CERTIFICATE_ID, limit=100)
    assert sorted(str(r.target) for r in history) == sorted(str(k) for k in keys)
    assert {r.reason for r in history} == {reason.value}


# -- happy path -------------------------------------------------------------------------------------
def test_one_pending_record_and_one_message_per_region(
    validator: Validator,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    detail = issued(
        spec("aws", "elb", "us-east-1", "eu-west-1", attach=("arn:aws:elasticloadbalancing:listener/1",)),
        spec("huaweicloud", "waf", "ap-southeast-1"),
    )

    outcome = validator.validate(detail, "event-1")

    assert outcome.issuance_id == "event-1"
    assert outcome.queued == [US_EAST_1, EU_WEST_1, WAF_AP]
    assert outcome.rejected == {}
    assert [m.target for m in queue.messages] == [US_EAST_1, EU_WEST_1, WAF_AP]
    current = records.list_current(CERTIFICATE_ID)
    assert len(current) == 3
    for message in queue.messages:
        record = records.get(CERTIFICATE_ID, hosted_certificate.version, message.target)
        assert record is not None
        assert record.status is PushStatus.PENDING
        assert record.push_id == message.push_id
        assert record.issuance_id == message.issuance_id == "event-1"
        assert message.version == hosted_certificate.version
    assert queue.messages[0].options.attach == ("arn:aws:elasticloadbalancing:listener/1",)
    assert queue.messages[2].options == TargetOptions()
    assert len({m.push_id for m in queue.messages}) == 3
    progress = records.get_issuance("event-1")
    assert progress is not None
    assert progress.targets == [str(US_EAST_1), str(EU_WEST_1), str(WAF_AP)]
    assert records.history_items == []


def test_messages_and_records_carry_no_key_or_certificate_material(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    validator.validate(issued(spec("aws", "elb", "us-east-1"), spec("huaweicloud", "waf", "ap-southeast-1")), "e")
    validator.validate(issued(spec("aws", "elb", "us-east-1")), "another-event")  # a rejection too

    dumped = [m.model_dump_json() for m in queue.messages]
    dumped += [r.model_dump_json() for r in records.current.values()]
    dumped += [r.model_dump_json() for r in records.history_items]
    assert len(dumped) == 2 + 2 + 1
    for text in dumped:
        assert "-----BEGIN" not in text
        assert "PRIVATE KEY" not in text


def test_explicit_version_is_pushed(
    validator: Validator,
    queue: FakeQueue,
    sample: SampleCertificate,
    renewed: SampleCertificate,
    store_certificate: Callable[..., CertificateVersion],
) -> None:
    store_certificate(material_of(sample))
    store_certificate(material_of(renewed))

    validator.validate(issued(spec("aws", "elb", "us-east-1"), version=1), "e")
    validator.validate(issued(spec("aws", "elb", "eu-west-1")), "f")

    assert [m.version for m in queue.messages] == [1, 2]


# -- certificate-level rejections -------------------------------------------------------------------
def test_unknown_certificate_is_rejected(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue
) -> None:
    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1", "eu-west-1"), version=3), "e")

    assert_all_rejected(
        outcome,
        records,
        queue,
        [US_EAST_1, EU_WEST_1],
        RejectReason.CERTIFICATE_NOT_FOUND,
        version=3,
        says="not in the inventory",
    )


def test_certificate_without_material_is_rejected(
    validator: Validator,
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    del store.materials[(CERTIFICATE_ID, hosted_certificate.version)]

    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1")), "e")

    assert_all_rejected(
        outcome, records, queue, [US_EAST_1], RejectReason.CERTIFICATE_NOT_FOUND, says="material is missing"
    )


@pytest.mark.parametrize("status", [CertificateStatus.REVOKED, CertificateStatus.DELETED])
def test_certificate_that_is_not_hosted_is_rejected(
    status: CertificateStatus,
    validator: Validator,
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    store.set_status(CERTIFICATE_ID, hosted_certificate.version, status)

    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1")), "e")

    assert_all_rejected(outcome, records, queue, [US_EAST_1], RejectReason.NOT_HOSTED, says=status.value)


@pytest.mark.parametrize(
    ("make_material", "reason", "says"),
    [
        pytest.param(
            lambda s: material_of(make_certificate("www.example.com", days=30, not_before=NOW - timedelta(days=60))),
            RejectReason.EXPIRED,
            "expired on",
            id="expired",
        ),
        pytest.param(
            lambda s: material_of(make_certificate("www.example.com", days=30, not_before=NOW + timedelta(days=2))),
            RejectReason.NOT_YET_VALID,
            "not valid before",
            id="not-yet-valid",
        ),
        pytest.param(
            lambda s: material_of(s, private_key_pem=other_private_key()),
            RejectReason.KEY_MISMATCH,
            "private key",
            id="key-mismatch",
        ),
        pytest.param(
            lambda s: material_of(s, chain_pem=make_certificate("x.example.com").chain_pem),
            RejectReason.CHAIN_INVALID,
            "not issued by",
            id="chain-invalid",
        ),
    ],
)
def test_unusable_material_is_rejected(
    make_material: Callable[[SampleCertificate], CertificateMaterial],
    reason: RejectReason,
    says: str,
    sample: SampleCertificate,
    store_certificate: Callable[..., CertificateVersion],
    validator: Validator,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
) -> None:
    store_certificate(make_material(sample))

    outcome = validator.validate(
        issued(spec("aws", "elb", "us-east-1"), spec("huaweicloud", "waf", "ap-southeast-1")), "e"
    )

    assert_all_rejected(outcome, records, queue, [US_EAST_1, WAF_AP], reason, says=says)


def test_material_that_is_not_a_certificate_is_rejected(
    validator: Validator,
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    garbage = CertificateMaterial(certificate_pem="garbage", private_key_pem=other_private_key())
    store.put_version(hosted_certificate.model_copy(update={"key_fingerprint_sha256": None}), garbage)  # version 2

    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1")), "e")

    assert_all_rejected(
        outcome, records, queue, [US_EAST_1], RejectReason.INVALID_CERTIFICATE, version=2, says="not a PEM"
    )


# -- target-level rejections ------------------------------------------------------------------------
def test_more_than_ten_regions_rejects_every_region_of_that_service(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    regions = sorted(AWS_ELB_REGIONS)[: MAX_REGIONS_PER_SERVICE + 1]

    outcome = validator.validate(issued(spec("aws", "elb", *regions)), "e")

    keys = [TargetKey(provider="aws", service="elb", region=r) for r in regions]
    assert len(keys) == 11
    assert_all_rejected(outcome, records, queue, keys, RejectReason.TOO_MANY_REGIONS, says="at most 10")


def test_too_many_regions_of_one_service_leave_the_other_services_alone(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    regions = sorted(AWS_ELB_REGIONS)[:11]

    outcome = validator.validate(
        issued(spec("aws", "elb", *regions), spec("huaweicloud", "waf", "ap-southeast-1")), "e"
    )

    assert outcome.queued == [WAF_AP]
    assert len(outcome.rejected) == 11
    assert [m.target for m in queue.messages] == [WAF_AP]


@pytest.mark.parametrize(
    ("target", "reason", "says"),
    [
        (spec("gcp", "lb", "us-central1"), RejectReason.UNKNOWN_PROVIDER, "unknown provider 'gcp'"),
        (spec("aws", "waf", "us-east-1"), RejectReason.UNKNOWN_SERVICE, "no service 'waf'"),
        (spec("aws", "elb", "mars-north-1"), RejectReason.REGION_NOT_OFFERED, "'mars-north-1'"),
        (spec("huaweicloud", "waf", "us-east-1"), RejectReason.REGION_NOT_OFFERED, "huaweicloud:waf"),
    ],
    ids=["unknown-provider", "unknown-service", "aws-region-not-offered", "huaweicloud-region-not-offered"],
)
def test_unknown_targets_are_rejected(
    target: TargetSpec,
    reason: RejectReason,
    says: str,
    validator: Validator,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    outcome = validator.validate(issued(target), "e")

    assert_all_rejected(outcome, records, queue, target.target_keys(), reason, says=says)


def test_one_region_not_offered_does_not_stop_the_others(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1", "mars-north-1")), "e")

    assert outcome.queued == [US_EAST_1]
    assert outcome.rejected[str(US_EAST_1.model_copy(update={"region": "mars-north-1"}))].reason is (
        RejectReason.REGION_NOT_OFFERED
    )
    assert [m.target for m in queue.messages] == [US_EAST_1]


# -- repeats ----------------------------------------------------------------------------------------
def test_version_already_pushed_is_rejected_and_the_success_kept(
    validator: Validator,
    worker: PushWorker,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    validator.validate(issued(spec("aws", "elb", "us-east-1")), "first")
    succeeded = worker.process(queue.messages[0], receive_count=1)
    assert succeeded is not None and succeeded.status is PushStatus.SUCCEEDED

    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1")), "second")

    assert outcome.rejected[str(US_EAST_1)].reason is RejectReason.ALREADY_PUSHED
    assert len(queue.messages) == 1
    assert records.get(CERTIFICATE_ID, 1, US_EAST_1) == succeeded
    rejection = records.history(CERTIFICATE_ID)[0]
    assert rejection.status is PushStatus.REJECTED
    assert rejection.reason == RejectReason.ALREADY_PUSHED.value
    assert rejection.issuance_id == "second"
    assert succeeded.target_id and succeeded.target_id in (rejection.message or "")


def test_push_in_progress_is_rejected_and_the_pending_push_kept(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    validator.validate(issued(spec("aws", "elb", "us-east-1")), "first")
    pending = records.get(CERTIFICATE_ID, 1, US_EAST_1)

    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1")), "second")

    assert outcome.rejected[str(US_EAST_1)].reason is RejectReason.PUSH_IN_PROGRESS
    assert "under way" in outcome.rejected[str(US_EAST_1)].message
    assert len(queue.messages) == 1
    assert records.get(CERTIFICATE_ID, 1, US_EAST_1) == pending
    [rejection] = records.history(CERTIFICATE_ID)
    assert rejection.reason == RejectReason.PUSH_IN_PROGRESS.value
    assert rejection.issuance_id == "second"


def test_same_event_twice_resends_its_messages_without_a_second_record(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    detail = issued(spec("aws", "elb", "us-east-1", "eu-west-1"))
    validator.validate(detail, "event-1")
    first_records = dict(records.current)

    outcome = validator.validate(detail, "event-1")

    assert outcome.rejected == {}
    assert outcome.queued == [US_EAST_1, EU_WEST_1]
    assert len(queue.messages) == 4
    assert queue.messages[:2] == queue.messages[2:]
    assert records.current == first_records
    assert records.history_items == []


def test_same_event_after_a_target_finished_changes_nothing_for_that_target(
    validator: Validator,
    worker: PushWorker,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    """A redelivered event must not count a target it already pushed as rejected: the issuance's
    summary would report a certificate that is in place as REJECTED."""
    detail = issued(spec("aws", "elb", "us-east-1", "eu-west-1"))
    validator.validate(detail, "event-1")
    worker.process(queue.messages[0], receive_count=1)  # us-east-1 SUCCEEDED, eu-west-1 still PENDING
    history_before = list(records.history_items)
    current_before = dict(records.current)

    outcome = validator.validate(detail, "event-1")

    assert outcome.rejected == {}
    assert outcome.queued == [EU_WEST_1]
    assert [m.target for m in queue.messages[2:]] == [EU_WEST_1]
    assert records.history_items == history_before
    assert records.current == current_before


def test_same_event_after_a_rejection_records_it_once(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    detail = issued(spec("aws", "elb", "mars-north-1"))
    validator.validate(detail, "event-1")

    validator.validate(detail, "event-1")

    assert len(records.history_items) == 1
    assert queue.messages == []


def test_same_event_after_a_failure_does_not_push_again(
    validator: Validator,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    aws_elb.errors.append(PermanentPushError("CertificateRejected", "no"))
    detail = issued(spec("aws", "elb", "us-east-1"))
    validator.validate(detail, "event-1")
    failed = worker.process(queue.messages[0], receive_count=1)
    assert failed is not None and failed.status is PushStatus.FAILED

    validator.validate(detail, "event-1")

    assert len(queue.messages) == 1
    assert records.get(CERTIFICATE_ID, 1, US_EAST_1) == failed


def test_failed_target_can_be_pushed_again_by_a_new_issuance(
    validator: Validator,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    aws_elb.errors.append(PermanentPushError("AccessDenied", "no permission"))
    validator.validate(issued(spec("aws", "elb", "us-east-1")), "first")
    assert worker.process(queue.messages[0], receive_count=1).status is PushStatus.FAILED  # type: ignore[union-attr]

    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1")), "replay")

    assert outcome.queued == [US_EAST_1]
    assert len(queue.messages) == 2
    assert queue.messages[1].push_id != queue.messages[0].push_id
    record = records.get(CERTIFICATE_ID, 1, US_EAST_1)
    assert record is not None
    assert record.status is PushStatus.PENDING
    assert record.issuance_id == "replay"
    assert worker.process(queue.messages[1], receive_count=1).status is PushStatus.SUCCEEDED  # type: ignore[union-attr]


def test_explicit_issuance_id_wins_over_the_event_id(
    validator: Validator, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    outcome = validator.validate(issued(spec("aws", "elb", "us-east-1"), issuance_id="cli-42"), "event-1")

    assert outcome.issuance_id == "cli-42"
    assert queue.messages[0].issuance_id == "cli-42"


# -- policies ---------------------------------------------------------------------------------------
def test_policies_decide_the_targets_when_the_event_names_none(
    validator: Validator,
    policies: InMemoryPolicyStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    policies.put_policy(PushPolicy(name="example", pattern="*.example.com", targets=[spec("aws", "elb", "us-east-1")]))
    policies.put_policy(
        PushPolicy(name="waf", pattern="api.example.com", targets=[spec("huaweicloud", "waf", "ap-southeast-1")])
    )
    policies.put_policy(PushPolicy(name="other", pattern="*.example.org", targets=[spec("aws", "elb", "eu-west-1")]))
    policies.put_policy(
        PushPolicy(name="off", pattern="*.example.com", targets=[spec("aws", "elb", "sa-east-1")], enabled=False)
    )

    outcome = validator.validate(issued(), "e")

    assert outcome.queued == [US_EAST_1, WAF_AP]
    assert [m.target for m in queue.messages] == [US_EAST_1, WAF_AP]
    assert len(records.list_current(CERTIFICATE_ID)) == 2


def test_explicit_targets_ignore_the_policies(
    validator: Validator, policies: InMemoryPolicyStore, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    policies.put_policy(PushPolicy(name="example", pattern="*.example.com", targets=[spec("aws", "elb", "us-east-1")]))

    validator.validate(issued(spec("aws", "elb", "eu-west-1")), "e")

    assert [m.target for m in queue.messages] == [EU_WEST_1]


def test_no_targets_writes_nothing(
    validator: Validator,
    policies: InMemoryPolicyStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    hosted_certificate: CertificateVersion,
) -> None:
    policies.put_policy(PushPolicy(name="other", pattern="*.example.org", targets=[spec("aws", "elb", "eu-west-1")]))

    outcome = validator.validate(issued(), "e")

    assert outcome.queued == [] and outcome.rejected == {}
    assert queue.messages == []
    assert records.current == {} and records.history_items == [] and records.issuances == {}


def test_unknown_certificate_without_targets_writes_nothing(
    validator: Validator, policies: InMemoryPolicyStore, records: InMemoryRecordsRepository, queue: FakeQueue
) -> None:
    policies.put_policy(PushPolicy(name="all", pattern="*", targets=[spec("aws", "elb", "eu-west-1")]))

    outcome = validator.validate(issued(), "e")

    assert outcome.queued == [] and outcome.rejected == {}
    assert records.current == {} and records.issuances == {}


# -- duplicates -------------------------------------------------------------------------------------
def test_duplicate_regions_and_services_are_pushed_once(
    validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> None:
    detail = issued(spec("aws", "elb", "us-east-1", "us-east-1", "eu-west-1"), spec("aws", "elb", "eu-west-1"))

    outcome = validator.validate(detail, "e")

    assert outcome.queued == [US_EAST_1, EU_WEST_1]
    assert [m.target for m in queue.messages] == [US_EAST_1, EU_WEST_1]
    assert len(records.current) == 2


@settings(max_examples=40, deadline=None)
@given(regions=st.lists(st.sampled_from(sorted(AWS_ELB_REGIONS)), min_size=1, max_size=16))
def test_region_lists_queue_each_distinct_region_once_up_to_the_limit(
    regions: list[str], sample: SampleCertificate
) -> None:
    store, records, queue = InMemoryCertificateStore(), InMemoryRecordsRepository(), FakeQueue()
    clock = FixedClock(NOW)
    validator = Validator(
        store=store, policies=InMemoryPolicyStore(), records=records, queue=queue, clock=clock, catalog=REGISTRY
    )
    store.put_version(
        CertificateVersion(
            certificate_id=CERTIFICATE_ID,
            version=1,
            common_name="www.example.com",
            sans=["www.example.com"],
            fingerprint_sha256="00",
            serial_number="1",
            issuer="CN=x",
            not_before=NOW,
            not_after=NOW,
            key_type="EC_secp256r1",
            secret_id="",
            imported_at=NOW,
        ),
        material_of(sample),
    )
    distinct = list(dict.fromkeys(regions))

    outcome = validator.validate(issued(spec("aws", "elb", *regions)), "e")

    assert len(records.current) == len(distinct)
    if len(distinct) <= MAX_REGIONS_PER_SERVICE:
        assert [k.region for k in outcome.queued] == distinct
        assert [m.region for m in queue.messages] == distinct
        assert outcome.rejected == {}
    else:
        assert queue.messages == []
        assert {r.reason for r in outcome.rejected.values()} == {RejectReason.TOO_MANY_REGIONS}
        assert len(outcome.rejected) == len(distinct)
