"""One contract for the records repository (certpush.ports.RecordsRepository), run against the
in-memory fake the unit tests use, the DynamoDB adapter on the records table of template.yaml and the
one-machine host's SQLite adapter. Where they disagree, the behaviour the port's docstrings describe
wins."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.errors import PushInProgressError, StalePushError
from certpush.models.domain import Issuance, PushRecord, PushStatus, TargetKey, TargetOptions
from certpush.ports import RecordsRepository
from certpush_cli.host.records import SqliteRecordsRepository
from certpush_dev.local.provision import ProvisionedStack
from tests.fakes import FixedClock, InMemoryRecordsRepository

pytestmark = pytest.mark.integration

US = TargetKey(provider="aws", service="elb", region="us-east-1")
EU = TargetKey(provider="aws", service="elb", region="eu-west-1")
WAF = TargetKey(provider="huaweicloud", service="waf", region="cn-north-4")


@pytest.fixture(params=["in-memory", "dynamodb", "sqlite"])
def repository(request: pytest.FixtureRequest) -> RecordsRepository:
    if request.param == "in-memory":
        return InMemoryRecordsRepository()
    if request.param == "sqlite":
        return SqliteRecordsRepository(request.getfixturevalue("host_database"))
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    return DynamoDBRecordsRepository(stack.outputs["RecordsTableName"], resource=request.getfixturevalue("dynamodb"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def new_record(clock: FixedClock) -> Callable[..., PushRecord]:
    def make(
        certificate_id: str = "cert-a", version: int = 1, target: TargetKey = US, issuance_id: str = "iss-1"
    ) -> PushRecord:
        now = clock.now()
        return PushRecord(
            certificate_id=certificate_id,
            version=version,
            provider=target.provider,
            service=target.service,
            region=target.region,
            status=PushStatus.PENDING,
            issuance_id=issuance_id,
            push_id=str(uuid.uuid4()),
            options=TargetOptions(attach=(f"arn:aws:elasticloadbalancing:{target.region}:1:listener/app/x/1/2",)),
            created_at=now,
            updated_at=now,
        )

    return make


def _final(record: PushRecord, clock: FixedClock, status: PushStatus, **changes: Any) -> PushRecord:
    return record.model_copy(update={"status": status, "updated_at": clock.now(), **changes})


def _run(
    repository: RecordsRepository,
    clock: FixedClock,
    record: PushRecord,
    status: PushStatus,
    target_id: str | None = None,
) -> PushRecord:
    """start -> in progress -> final, as the validator and the push worker do."""
    assert repository.start_push(record)
    started = repository.mark_in_progress(record.model_copy(update={"updated_at": clock.now()}))
    final = _final(started, clock, status, target_id=target_id, reason=None if target_id else "BOOM")
    assert repository.finish(final)
    return final


def _to_status(repository: RecordsRepository, clock: FixedClock, record: PushRecord, status: PushStatus) -> None:
    assert repository.start_push(record)
    if status is PushStatus.PENDING:
        return
    started = repository.mark_in_progress(record)
    if status is PushStatus.IN_PROGRESS:
        return
    assert repository.finish(_final(started, clock, status, target_id="arn:first"))


# -- start_push --------------------------------------------------------------------------------------
def test_start_push_writes_the_pending_record(repository: RecordsRepository, new_record: Callable[..., PushRecord]):
    record = new_record()

    assert repository.get("cert-a", 1, US) is None
    assert repository.start_push(record) is True
    assert repository.get("cert-a", 1, US) == record
    assert repository.list_current("cert-a") == [record]


@pytest.mark.parametrize("status", [PushStatus.PENDING, PushStatus.IN_PROGRESS, PushStatus.SUCCEEDED])
def test_second_start_loses_while_pushing_or_pushed(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock, status: PushStatus
):
    first = new_record()
    _to_status(repository, clock, first, status)

    assert repository.start_push(new_record()) is False
    current = repository.get("cert-a", 1, US)
    assert current is not None
    assert (current.push_id, current.status) == (first.push_id, status)


@pytest.mark.parametrize("status", [PushStatus.FAILED, PushStatus.REJECTED])
def test_start_replaces_a_failed_or_rejected_push(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock, status: PushStatus
):
    if status is PushStatus.FAILED:
        _run(repository, clock, new_record(), PushStatus.FAILED)
    else:
        repository.record_rejection(_final(new_record(), clock, PushStatus.REJECTED), keep_current=False)
    assert repository.get("cert-a", 1, US).status is status

    retry = new_record()
    assert repository.start_push(retry) is True
    assert repository.get("cert-a", 1, US) == retry


def test_start_pushes_starts_the_new_ones_and_tells_which_lost(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    under_way, failed_before = new_record(), new_record(target=EU)
    _to_status(repository, clock, under_way, PushStatus.IN_PROGRESS)
    _run(repository, clock, failed_before, PushStatus.FAILED)
    fresh = [new_record(certificate_id="cert-b"), new_record(), new_record(target=EU), new_record(version=2)]

    assert repository.start_pushes(fresh) == [True, False, True, True]
    assert repository.get("cert-a", 1, US).push_id == under_way.push_id
    assert repository.get("cert-a", 1, EU) == fresh[2]  # a new push replaces a FAILED one


def test_a_push_is_never_started_twice_even_after_it_failed(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """The same event delivered again must not restart its own finished push."""
    record = new_record()
    final = _run(repository, clock, record, PushStatus.FAILED)

    assert repository.start_pushes([record, new_record(version=2)]) == [False, True]
    assert repository.start_push(record) is False
    assert repository.get("cert-a", 1, US) == final


def test_pushes_of_other_versions_and_targets_are_independent(
    repository: RecordsRepository, new_record: Callable[..., PushRecord]
):
    assert repository.start_push(new_record())
    assert repository.start_push(new_record(version=2))
    assert repository.start_push(new_record(target=EU))
    assert repository.start_push(new_record(certificate_id="cert-b"))

    assert len(repository.list_current("cert-a")) == 3
    assert len(repository.list_current("cert-b")) == 1


# -- mark_in_progress --------------------------------------------------------------------------------
def test_mark_in_progress_counts_attempts(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)

    first = repository.mark_in_progress(record.model_copy(update={"updated_at": clock.now()}))
    repository.note_error(first.model_copy(update={"reason": "Throttling", "message": "slow down"}))
    clock.advance(seconds=1)
    second_time = clock.now()
    second = repository.mark_in_progress(record.model_copy(update={"updated_at": second_time}))

    assert (first.status, first.attempts) == (PushStatus.IN_PROGRESS, 1)
    assert (second.status, second.attempts, second.updated_at) == (PushStatus.IN_PROGRESS, 2, second_time)
    assert repository.get("cert-a", 1, US) == second


def test_a_push_under_way_is_not_claimed_again_until_its_lease_runs_out(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """Two deliveries of one message at once: the second waits (no push twice at the same time);
    a worker that crashed mid-push leaves a lease that runs out, and the next delivery takes over."""
    record = new_record()
    repository.start_push(record)
    first = repository.mark_in_progress(record.model_copy(update={"updated_at": clock.now()}), lease_seconds=60)

    clock.advance(seconds=59)
    with pytest.raises(PushInProgressError):
        repository.mark_in_progress(record.model_copy(update={"updated_at": clock.now()}), lease_seconds=60)
    assert repository.get("cert-a", 1, US) == first

    clock.advance(seconds=2)
    taken_over = repository.mark_in_progress(record.model_copy(update={"updated_at": clock.now()}), lease_seconds=60)
    assert (taken_over.status, taken_over.attempts) == (PushStatus.IN_PROGRESS, 2)


def test_mark_in_progress_of_a_final_push_is_stale(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    final = _run(repository, clock, record, PushStatus.SUCCEEDED, target_id="arn:1")

    with pytest.raises(StalePushError):
        repository.mark_in_progress(record)
    assert repository.get("cert-a", 1, US) == final


def test_mark_in_progress_of_another_push_is_stale(
    repository: RecordsRepository, new_record: Callable[..., PushRecord]
):
    record = new_record()
    repository.start_push(record)

    with pytest.raises(StalePushError):
        repository.mark_in_progress(new_record())  # same target, another push id
    with pytest.raises(StalePushError):
        repository.mark_in_progress(new_record(version=9))  # no such push at all
    assert repository.get("cert-a", 1, US) == record


def test_note_error_keeps_the_last_transient_error_on_an_in_progress_push_only(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    started = repository.mark_in_progress(record)

    repository.note_error(started.model_copy(update={"reason": "ThrottlingException", "message": "slow down"}))
    noted = repository.get("cert-a", 1, US)
    assert (noted.status, noted.reason, noted.message) == (PushStatus.IN_PROGRESS, "ThrottlingException", "slow down")

    final = _final(noted, clock, PushStatus.SUCCEEDED, target_id="arn:1", reason=None, message="imported")
    assert repository.finish(final)
    repository.note_error(started.model_copy(update={"reason": "LATE", "message": "too late"}))
    assert repository.get("cert-a", 1, US) == final


# -- finish ------------------------------------------------------------------------------------------
def test_finish_happens_once(repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock):
    record = new_record()
    repository.start_push(record)
    started = repository.mark_in_progress(record)
    succeeded = _final(started, clock, PushStatus.SUCCEEDED, target_id="arn:1")

    assert repository.finish(succeeded) is True
    assert repository.finish(succeeded) is False  # a duplicated message
    assert repository.finish(_final(started, clock, PushStatus.FAILED, reason="LATE")) is False

    assert repository.get("cert-a", 1, US) == succeeded
    assert repository.history("cert-a") == [succeeded]


def test_finish_of_another_push_loses(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    intruder = _final(new_record(), clock, PushStatus.SUCCEEDED, target_id="arn:other")

    assert repository.finish(intruder) is False
    assert repository.get("cert-a", 1, US) == record
    assert repository.history("cert-a") == []
    assert repository.deployed_target_id("cert-a", US) is None


# -- history -----------------------------------------------------------------------------------------
def test_history_is_newest_first_and_limited(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    finished = [
        _run(repository, clock, new_record(version=v), PushStatus.SUCCEEDED if v % 3 else PushStatus.FAILED, "arn:x")
        for v in range(1, 13)
    ]
    _run(repository, clock, new_record(certificate_id="cert-b"), PushStatus.SUCCEEDED, "arn:b")

    newest_first = list(reversed(finished))
    assert repository.history("cert-a") == newest_first[:10]
    assert repository.history("cert-a", limit=3) == newest_first[:3]
    assert [r.certificate_id for r in repository.history("cert-b")] == ["cert-b"]
    assert repository.history("cert-none") == []


def test_dynamodb_history_is_one_query(clean_stack: ProvisionedStack, dynamodb: Any, clock: FixedClock, new_record):
    repository = DynamoDBRecordsRepository(clean_stack.outputs["RecordsTableName"], resource=dynamodb)
    for version in range(1, 13):
        _run(repository, clock, new_record(version=version), PushStatus.SUCCEEDED, "arn:x")
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name)

    events = dynamodb.meta.client.meta.events
    events.register("before-call.dynamodb", count)
    try:
        history = repository.history("cert-a")
    finally:
        events.unregister("before-call.dynamodb", count)

    assert [r.version for r in history] == list(range(12, 2, -1))
    assert calls == ["before-call.dynamodb.Query"]


# -- rejections --------------------------------------------------------------------------------------
def test_rejection_that_keeps_current_goes_to_history_only(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    succeeded = _run(repository, clock, new_record(), PushStatus.SUCCEEDED, "arn:1")
    rejected = _final(new_record(issuance_id="iss-2"), clock, PushStatus.REJECTED, reason="ALREADY_PUSHED")

    repository.record_rejection(rejected, keep_current=True)

    assert repository.get("cert-a", 1, US) == succeeded
    assert repository.history("cert-a") == [rejected, succeeded]


def test_rejection_that_replaces_current(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    rejected = _final(new_record(), clock, PushStatus.REJECTED, reason="EXPIRED", message="expired")

    repository.record_rejection(rejected, keep_current=False)

    assert repository.get("cert-a", 1, US) == rejected
    assert repository.history("cert-a") == [rejected]
    assert repository.by_status(PushStatus.REJECTED) == [rejected]


def test_rejection_never_overwrites_a_push_under_way(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    pending = new_record()
    repository.start_push(pending)
    rejected = _final(new_record(issuance_id="iss-2"), clock, PushStatus.REJECTED, reason="PUSH_IN_PROGRESS")

    repository.record_rejection(rejected, keep_current=False)

    assert repository.get("cert-a", 1, US) == pending
    assert repository.history("cert-a") == [rejected]


# -- bindings ----------------------------------------------------------------------------------------
def test_deployed_target_id_follows_the_last_successful_push(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    assert repository.deployed_target_id("cert-a", US) is None

    _run(repository, clock, new_record(version=1), PushStatus.SUCCEEDED, "arn:v1")
    assert repository.deployed_target_id("cert-a", US) == "arn:v1"

    _run(repository, clock, new_record(version=2), PushStatus.FAILED)
    assert repository.deployed_target_id("cert-a", US) == "arn:v1"

    _run(repository, clock, new_record(version=3), PushStatus.SUCCEEDED, "arn:v3")
    assert repository.deployed_target_id("cert-a", US) == "arn:v3"
    assert repository.deployed_target_id("cert-a", EU) is None
    assert repository.deployed_target_id("cert-b", US) is None


def test_force_replaces_a_succeeded_push_and_the_history_says_so(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    _run(repository, clock, new_record(), PushStatus.SUCCEEDED, "arn:v1")
    again = new_record(issuance_id="iss-2").model_copy(update={"forced": True})
    assert not repository.start_push(again)
    assert repository.start_push(again, force=True)
    started = repository.mark_in_progress(again.model_copy(update={"updated_at": clock.now()}))
    assert repository.finish(_final(started, clock, PushStatus.SUCCEEDED, target_id="arn:v1"))
    assert repository.history("cert-a", 1)[0].forced


def test_a_retraction_ends_the_binding_and_lets_the_version_be_pushed_again(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    pushed = _run(repository, clock, new_record(), PushStatus.SUCCEEDED, "arn:v1")
    retracted = pushed.model_copy(update={"updated_at": clock.now(), "message": "retracted arn:v1"})
    assert repository.record_retraction(retracted)
    assert not repository.record_retraction(retracted)  # once
    current = repository.get("cert-a", 1, US)
    assert current is not None and current.status is PushStatus.RETRACTED
    assert repository.history("cert-a", 1)[0].status is PushStatus.RETRACTED
    assert repository.deployed_target_id("cert-a", US) is None
    assert repository.start_push(new_record(issuance_id="iss-3"))


# -- indexes -----------------------------------------------------------------------------------------
def test_by_status_lists_newest_first(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    failed = [_run(repository, clock, new_record(certificate_id=f"cert-{i}"), PushStatus.FAILED) for i in range(4)]
    succeeded = _run(repository, clock, new_record(certificate_id="cert-ok"), PushStatus.SUCCEEDED, "arn:ok")
    pending = new_record(certificate_id="cert-new")
    repository.start_push(pending)

    assert repository.by_status(PushStatus.FAILED) == list(reversed(failed))
    assert repository.by_status(PushStatus.FAILED, limit=2) == [failed[3], failed[2]]
    assert repository.by_status(PushStatus.SUCCEEDED) == [succeeded]
    assert repository.by_status(PushStatus.PENDING) == [pending]

    started = repository.mark_in_progress(pending)
    assert repository.by_status(PushStatus.PENDING) == []
    assert repository.by_status(PushStatus.IN_PROGRESS) == [started]


def test_by_status_drops_a_failure_once_it_is_retried(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    _run(repository, clock, new_record(), PushStatus.FAILED)
    replay = new_record(issuance_id="replay")
    repository.start_push(replay)

    assert repository.by_status(PushStatus.FAILED) == []
    assert repository.by_status(PushStatus.PENDING) == [replay]


def test_by_target_lists_one_service_in_one_region(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    first = _run(repository, clock, new_record(certificate_id="cert-a"), PushStatus.SUCCEEDED, "arn:a")
    _run(repository, clock, new_record(certificate_id="cert-a", target=EU), PushStatus.SUCCEEDED, "arn:eu")
    _run(repository, clock, new_record(certificate_id="cert-a", target=WAF), PushStatus.FAILED)
    second = new_record(certificate_id="cert-b")
    repository.start_push(second)

    assert repository.by_target(US) == [second, first]
    assert repository.by_target(US, limit=1) == [second]
    assert [r.region for r in repository.by_target(EU)] == ["eu-west-1"]
    assert [r.service for r in repository.by_target(WAF)] == ["waf"]


# -- issuances ---------------------------------------------------------------------------------------
def _issuance(clock: FixedClock, targets: list[TargetKey]) -> Issuance:
    return Issuance(issuance_id="iss-1", certificate_id="cert-a", version=1, targets=targets, created_at=clock.now())


def test_issuance_summary_comes_until_it_is_marked_sent(repository: RecordsRepository, clock: FixedClock):
    repository.put_issuance(_issuance(clock, [US, EU, WAF]))

    assert repository.note_final("iss-1", US, PushStatus.SUCCEEDED) is None
    assert repository.note_final("iss-1", US, PushStatus.SUCCEEDED) is None  # a redelivered stream record
    assert repository.note_final("iss-1", EU, PushStatus.FAILED) is None
    summary = repository.note_final("iss-1", WAF, PushStatus.REJECTED)

    assert summary is not None
    assert (summary.issuance_id, summary.certificate_id, summary.version) == ("iss-1", "cert-a", 1)
    assert (summary.total, summary.outcome) == (3, "PARTIAL")
    assert (summary.counts.succeeded, summary.counts.failed, summary.counts.rejected) == (1, 1, 1)
    assert summary.targets == {str(EU): "FAILED", str(WAF): "REJECTED", str(US): "SUCCEEDED"}

    # not marked sent yet (say the publish failed): a redelivery gets the summary again
    assert repository.note_final("iss-1", WAF, PushStatus.REJECTED) == summary
    repository.mark_summary_sent("iss-1")
    for target in (WAF, US, EU, WAF):
        assert repository.note_final("iss-1", target, PushStatus.SUCCEEDED) is None


def test_issuance_progress(repository: RecordsRepository, clock: FixedClock):
    assert repository.get_issuance("iss-1") is None
    repository.put_issuance(_issuance(clock, [US, EU]))

    progress = repository.get_issuance("iss-1")
    assert progress is not None
    assert (progress.certificate_id, progress.version, progress.done) == ("cert-a", 1, False)
    assert progress.targets == [str(US), str(EU)]
    assert progress.outcomes == {}

    repository.note_final("iss-1", EU, PushStatus.FAILED)
    repository.put_issuance(_issuance(clock, [US, EU]))  # a redelivered event does not reset progress
    progress = repository.get_issuance("iss-1")
    assert (progress.outcomes, progress.done) == ({str(EU): "FAILED"}, False)

    summary = repository.note_final("iss-1", US, PushStatus.SUCCEEDED)
    assert summary is not None
    assert summary.outcome == "PARTIAL"
    assert repository.get_issuance("iss-1").done is True


def test_issuance_all_succeeded(repository: RecordsRepository, clock: FixedClock):
    repository.put_issuance(_issuance(clock, [US]))

    summary = repository.note_final("iss-1", US, PushStatus.SUCCEEDED)

    assert summary is not None
    assert (summary.outcome, summary.total, summary.counts.succeeded) == ("SUCCEEDED", 1, 1)


def test_note_final_of_an_unknown_issuance_returns_nothing(repository: RecordsRepository):
    assert repository.note_final("never-recorded", US, PushStatus.SUCCEEDED) is None
    assert repository.get_issuance("never-recorded") is None


def test_outcomes_of_several_targets_in_one_write(repository: RecordsRepository, clock: FixedClock):
    repository.put_issuance(_issuance(clock, [US, EU, WAF]))

    assert repository.note_finals("iss-1", {US: PushStatus.SUCCEEDED, EU: PushStatus.FAILED}) is None
    summary = repository.note_finals("iss-1", {EU: PushStatus.FAILED, WAF: "ALREADY_PUSHED"})

    assert summary is not None
    assert summary.targets == {str(US): "SUCCEEDED", str(EU): "FAILED", str(WAF): "ALREADY_PUSHED"}
    assert repository.note_finals("never-recorded", {US: PushStatus.SUCCEEDED}) is None
