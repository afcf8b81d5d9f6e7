"""The command line's use cases (certpush.logic.issuances) on the fakes: push now, replay the FAILED
targets of a version, wait for an issuance, gather its records."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from certpush.logic.issuances import (
    Issuances,
    IssuanceTimeoutError,
    NoPushRecordsError,
    plan_replay,
)
from certpush.models.domain import (
    Issuance,
    IssuanceProgress,
    PushRecord,
    PushStatus,
    TargetKey,
    TargetOptions,
    TargetSpec,
)
from certpush_cli.exit_codes import all_in_place
from tests.fakes import FixedClock, InMemoryRecordsRepository, RecordingPublisher, claim_push

pytestmark = pytest.mark.unit

US = TargetKey(provider="aws", service="elb", region="us-east-1")
EU = TargetKey(provider="aws", service="elb", region="eu-west-1")
WAF = TargetKey(provider="huaweicloud", service="waf", region="cn-north-4")
LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/x/1/2"


def record(
    target: TargetKey, status: PushStatus, version: int = 1, issuance_id: str = "iss-1", **changes: object
) -> PushRecord:
    now = datetime(2026, 11, 28)
    return PushRecord.model_validate(
        {"certificate_id": "shop", "version": version, **target.model_dump(), "status": status,
         "issuance_id": issuance_id, "push_id": f"{issuance_id}-{target}", "created_at": now, "updated_at": now,
         **changes}
    )  # fmt: skip


class SteppingTime:
    """monotonic() moves one second per sleep: the wait's deadline is reached without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        next(self.sleeps)
        self.now += 1.0


@pytest.fixture
def time_() -> SteppingTime:
    return SteppingTime()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


@pytest.fixture
def issuances(
    records: InMemoryRecordsRepository, publisher: RecordingPublisher, time_: SteppingTime, clock: FixedClock
) -> Issuances:
    ids = (f"iss-{n}" for n in itertools.count(2))
    return Issuances(
        records=records,
        publisher=publisher,
        clock=clock,
        new_id=lambda: next(ids),
        monotonic=time_.monotonic,
        sleep=time_.sleep,
    )


def _store(records: InMemoryRecordsRepository, *found: PushRecord) -> None:
    for r in found:
        pending = r.model_copy(update={"status": PushStatus.PENDING})
        assert records.start_push(pending)
        if r.status.is_final:
            claimed = claim_push(records, pending)
            assert records.finish(r.model_copy(update={"lease_token": claimed.lease_token}))


# -- replay -------------------------------------------------------------------------------------------
def test_replay_chooses_the_failed_targets_of_the_latest_version_with_their_options() -> None:
    current = [
        record(US, PushStatus.FAILED, version=1),
        record(US, PushStatus.SUCCEEDED, version=2),
        record(EU, PushStatus.FAILED, version=2, options=TargetOptions(attach=(LISTENER,))),
        record(WAF, PushStatus.FAILED, version=2),
    ]

    plan = plan_replay("shop", current)

    assert plan.version == 2
    assert [r.target for r in plan.failed] == [EU, WAF]
    assert plan.targets == [
        TargetSpec(provider="aws", service="elb", regions=["eu-west-1"], options=TargetOptions(attach=(LISTENER,))),
        TargetSpec(provider="huaweicloud", service="waf", regions=["cn-north-4"]),
    ]
    assert [r.target for r in plan_replay("shop", current, version=1).failed] == [US]


def test_replay_without_records_is_an_error() -> None:
    with pytest.raises(NoPushRecordsError, match="no push records for shop"):
        plan_replay("shop", [])


def test_replay_emits_one_replay_issuance(
    issuances: Issuances, records: InMemoryRecordsRepository, publisher: RecordingPublisher
) -> None:
    _store(records, record(US, PushStatus.FAILED, reason="BOOM"), record(WAF, PushStatus.SUCCEEDED, target_id="w"))

    plan, issuance_id = issuances.replay("shop")

    [event] = publisher.issued
    assert issuance_id == "iss-2" and event.issuance_id == "iss-2" and event.replay
    assert (event.certificate_id, event.version) == ("shop", 1)
    assert event.targets == plan.targets == [TargetSpec(provider="aws", service="elb", regions=["us-east-1"])]


def test_replay_ends_a_stuck_push_at_the_injected_clock_and_pushes_it_again(
    issuances: Issuances, records: InMemoryRecordsRepository, publisher: RecordingPublisher, clock: FixedClock
) -> None:
    stuck = record(US, PushStatus.PENDING, updated_at=datetime(2026, 11, 28, 11, 0, tzinfo=UTC))
    assert records.start_push(stuck)

    plan, issuance_id = issuances.replay("shop", stuck_since=datetime(2026, 11, 28, 11, 30, tzinfo=UTC))

    [ended] = plan.failed
    assert (ended.status, ended.reason) == (PushStatus.FAILED, "STUCK")
    assert ended.updated_at == clock.current  # the clock certpush was given, not the machine's
    assert ended.message is not None and ended.message.startswith("left PENDING for 3600s")
    assert issuance_id == "iss-2" and publisher.issued[0].targets == plan.targets


def test_nothing_failed_nothing_replayed(
    issuances: Issuances, records: InMemoryRecordsRepository, publisher: RecordingPublisher
) -> None:
    _store(records, record(US, PushStatus.SUCCEEDED, target_id="arn"))

    plan, issuance_id = issuances.replay("shop")

    assert issuance_id is None and plan.failed == [] and publisher.issued == []


def test_push_emits_the_targets_with_a_new_issuance_id(issuances: Issuances, publisher: RecordingPublisher) -> None:
    targets = [TargetSpec(provider="aws", service="cloudfront")]

    issuance_id = issuances.push("shop", targets, version=3)

    [event] = publisher.issued
    assert (event.issuance_id, event.certificate_id, event.version, event.targets) == (issuance_id, "shop", 3, targets)
    assert not event.replay


# -- waiting --------------------------------------------------------------------------------------------
def _issuance(records: InMemoryRecordsRepository, *targets: TargetKey) -> None:
    records.put_issuance(
        Issuance(issuance_id="iss-1", certificate_id="shop", version=1, targets=list(targets),
                 created_at=FixedClock().now())
    )  # fmt: skip


def test_wait_returns_once_every_target_is_final_and_shows_progress(
    issuances: Issuances, records: InMemoryRecordsRepository, time_: SteppingTime
) -> None:
    _issuance(records, US, EU)
    records.note_finals("iss-1", {US: "SUCCEEDED"})
    seen: list[IssuanceProgress] = []

    def finish_eu_on_second_look(progress: IssuanceProgress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            records.note_finals("iss-1", {EU: "FAILED"})

    progress = issuances.wait("iss-1", timeout=60, on_progress=finish_eu_on_second_look)

    assert progress.done and progress.outcomes == {str(US): "SUCCEEDED", str(EU): "FAILED"}
    assert [len(p.outcomes) for p in seen] == [1, 1, 2]


def test_wait_times_out_saying_how_far_it_came(issuances: Issuances, records: InMemoryRecordsRepository) -> None:
    _issuance(records, US, EU)
    records.note_finals("iss-1", {US: "SUCCEEDED"})

    with pytest.raises(IssuanceTimeoutError, match="timed out after 5s waiting for issuance iss-1: 1/2 targets final"):
        issuances.wait("iss-1", timeout=5)


def test_wait_for_an_issuance_nobody_validated(issuances: Issuances) -> None:
    with pytest.raises(IssuanceTimeoutError, match="no record of it yet"):
        issuances.wait("iss-unknown", timeout=3)


def test_records_of_an_issuance_include_a_rejected_repeat_from_the_history(
    issuances: Issuances, records: InMemoryRecordsRepository
) -> None:
    _store(records, record(US, PushStatus.SUCCEEDED, issuance_id="iss-0", target_id="arn"))
    _store(records, record(EU, PushStatus.FAILED, reason="BOOM"))
    repeat = record(US, PushStatus.REJECTED, reason="ALREADY_PUSHED")
    records.record_rejection(repeat, keep_current=True)
    progress = IssuanceProgress(
        issuance_id="iss-1", certificate_id="shop", version=1, targets=[str(US), str(EU)], outcomes={}
    )

    found = issuances.records_of(progress)

    assert [(r.region, r.status, r.reason) for r in found] == [
        ("eu-west-1", PushStatus.FAILED, "BOOM"),
        ("us-east-1", PushStatus.REJECTED, "ALREADY_PUSHED"),
    ]
    assert not all_in_place(found)
    assert all_in_place([found[1]])


def test_replay_of_one_target_plans_that_target_alone_and_nothing_when_it_did_not_fail() -> None:
    current = [record(US, PushStatus.FAILED), record(EU, PushStatus.FAILED), record(WAF, PushStatus.SUCCEEDED)]

    assert [r.target for r in plan_replay("shop", current, only=EU).failed] == [EU]
    assert plan_replay("shop", current, only=EU).targets == [
        TargetSpec(provider="aws", service="elb", regions=["eu-west-1"])
    ]
    assert plan_replay("shop", current, only=WAF).targets == []
