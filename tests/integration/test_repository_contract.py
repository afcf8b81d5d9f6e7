"""One contract for the records repository (certpush.ports.RecordsRepository), run against the
in-memory fake the unit tests use, the DynamoDB adapter on the records table of template.yaml and the
one-machine host's SQLite adapter. Where they disagree, the behaviour the port's docstrings describe
wins."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.errors import (
    PushInProgressError,
    PushSettlingError,
    RecordsInUseError,
    StalePushError,
    SupersededPushError,
)
from certpush.models.domain import (
    Binding,
    Issuance,
    PushRecord,
    PushState,
    PushStatus,
    TargetKey,
    TargetOptions,
    UploadAction,
)
from certpush.ports import RecordsRepository
from certpush_cli.host.records import SqliteRecordsRepository
from certpush_dev.local.provision import ProvisionedStack
from tests.fakes import FixedClock, InMemoryRecordsRepository, claim_push

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


def _stored(record: PushRecord) -> PushRecord:
    """A final record as the repository keeps it: no lease (the claim's token is never stored with it)."""
    return record.model_copy(update={"lease_token": None, "lease_until": None})


def _run(
    repository: RecordsRepository,
    clock: FixedClock,
    record: PushRecord,
    status: PushStatus,
    target_id: str | None = None,
) -> PushRecord:
    """start -> in progress -> final, as the validator and the push worker do."""
    assert repository.start_push(record)
    started = claim_push(repository, record.model_copy(update={"updated_at": clock.now()}))
    final = _final(started, clock, status, target_id=target_id, reason=None if target_id else "BOOM")
    assert repository.finish(final)
    return _stored(final)


def _to_status(repository: RecordsRepository, clock: FixedClock, record: PushRecord, status: PushStatus) -> None:
    assert repository.start_push(record)
    if status is PushStatus.PENDING:
        return
    started = claim_push(repository, record)
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

    first = claim_push(repository, record.model_copy(update={"updated_at": clock.now()}))
    repository.note_error(first.model_copy(update={"reason": "Throttling", "message": "slow down"}))
    clock.advance(seconds=1)
    second_time = clock.now()
    second = claim_push(repository, record.model_copy(update={"updated_at": second_time}))

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
    first = claim_push(repository, record.model_copy(update={"updated_at": clock.now()}), 60)

    clock.advance(seconds=59)
    with pytest.raises(PushInProgressError):
        claim_push(repository, record.model_copy(update={"updated_at": clock.now()}), 60)
    assert repository.get("cert-a", 1, US) == first

    clock.advance(seconds=2)
    taken_over = claim_push(repository, record.model_copy(update={"updated_at": clock.now()}), 60)
    assert (taken_over.status, taken_over.attempts) == (PushStatus.IN_PROGRESS, 2)


# -- the settle wait after an ambiguous error ("not before") -----------------------------------------------
def _ambiguous_error(
    repository: RecordsRepository, clock: FixedClock, record: PushRecord, settle_seconds: int = 30
) -> datetime:
    """Claims ``record``'s push and notes an ambiguous error (a timeout after the request was sent) with
    its settle wait, as the push worker does; returns the end of the wait."""
    started = claim_push(repository, record.model_copy(update={"updated_at": clock.now()}))
    now = clock.now()
    until = now + timedelta(seconds=settle_seconds)
    noted = started.model_copy(
        update={"reason": "TIMEOUT", "message": "read timeout", "updated_at": now, "settle_until": until}
    )
    assert repository.note_error(noted)
    return until


def test_an_ambiguous_error_holds_every_claim_of_the_push_until_its_settle_wait_ends(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """A second delivery of the message during the wait is refused (PushSettlingError: nothing written,
    no attempt counted) however soon the first gave its lease back; at the end of the wait it claims."""
    record = new_record()
    repository.start_push(record)
    until = _ambiguous_error(repository, clock, record)
    noted = repository.get("cert-a", 1, US)
    assert (noted.status, noted.attempts, noted.lease_token, noted.reason) == (
        PushStatus.IN_PROGRESS,
        1,
        None,
        "TIMEOUT",
    )
    assert noted.settle_until == until and repository.binding("cert-a", US).settle_until == until

    clock.advance(seconds=1)
    with pytest.raises(PushSettlingError) as refused:
        claim_push(repository, noted, now=clock.now())
    assert (refused.value.until, refused.value.seconds_left) == (until, 29)
    assert repository.get("cert-a", 1, US) == noted  # nothing written: the attempt is not counted

    retried = claim_push(repository, noted, now=until)
    assert (retried.status, retried.attempts, retried.settle_until) == (PushStatus.IN_PROGRESS, 2, None)
    assert repository.get("cert-a", 1, US) == retried
    assert repository.binding("cert-a", US).settle_until is None


def test_a_claim_read_before_the_settle_wait_is_refused_by_the_write_itself(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """A delivery that read the push before the ambiguous error was noted (a batch's prepared read)
    claims on what it read: the write's own condition refuses it, and the read it makes then says why."""
    record = new_record()
    repository.start_push(record)
    _ambiguous_error(repository, clock, record)
    noted = repository.get("cert-a", 1, US)
    binding = repository.binding("cert-a", US)
    as_read = PushState(
        record=noted.model_copy(update={"settle_until": None}),
        binding=binding.model_copy(update={"settle_until": None}),
    )

    with pytest.raises(PushSettlingError):
        repository.claim(as_read, clock.now(), 60)
    assert repository.get("cert-a", 1, US) == noted


def test_a_settle_wait_holds_the_pushes_of_other_versions_to_the_target(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """The wait is on the binding too: a push of v2 to the same target waits for v1's late create to
    show (it could otherwise land over v2); a push of the certificate to another target does not."""
    older = new_record(version=1)
    repository.start_push(older)
    until = _ambiguous_error(repository, clock, older)
    newer, elsewhere = new_record(version=2), new_record(version=2, target=EU)
    assert repository.start_push(newer) and repository.start_push(elsewhere)

    with pytest.raises(PushSettlingError):
        claim_push(repository, newer, now=clock.now())
    assert claim_push(repository, elsewhere, now=clock.now()).attempts == 1
    assert claim_push(repository, newer, now=until).attempts == 1


def test_a_transient_error_that_is_not_ambiguous_sets_no_settle_wait(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    started = claim_push(repository, record.model_copy(update={"updated_at": clock.now()}))
    assert repository.note_error(started.model_copy(update={"reason": "HTTP_503", "updated_at": clock.now()}))

    assert repository.get("cert-a", 1, US).settle_until is None
    assert claim_push(repository, repository.get("cert-a", 1, US), now=clock.now()).attempts == 2


def test_the_sweeper_does_not_end_a_push_during_its_settle_wait(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """A finish without a claim (the sweeper's STUCK) waits for the settle wait as for a running lease:
    a late create may still land, and a FAILED record would then say what the target does not hold."""
    record = new_record()
    repository.start_push(record)
    until = _ambiguous_error(repository, clock, record)
    stuck = repository.get("cert-a", 1, US).model_copy(update={"settle_until": None})

    early = _final(stuck, clock, PushStatus.FAILED, reason="STUCK")
    assert repository.finish(early) is False
    late = early.model_copy(update={"updated_at": until + timedelta(seconds=1)})
    assert repository.finish(late) is True
    assert repository.get("cert-a", 1, US).reason == "STUCK"


def test_mark_in_progress_of_a_final_push_is_stale(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    final = _run(repository, clock, record, PushStatus.SUCCEEDED, target_id="arn:1")

    with pytest.raises(StalePushError):
        claim_push(repository, record)
    assert repository.get("cert-a", 1, US) == final


def test_mark_in_progress_of_another_push_is_stale(
    repository: RecordsRepository, new_record: Callable[..., PushRecord]
):
    record = new_record()
    repository.start_push(record)

    with pytest.raises(StalePushError):
        claim_push(repository, new_record())  # same target, another push id
    with pytest.raises(StalePushError):
        claim_push(repository, new_record(version=9))  # no such push at all
    assert repository.get("cert-a", 1, US) == record


def test_note_error_keeps_the_last_transient_error_on_an_in_progress_push_only(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    started = claim_push(repository, record)

    repository.note_error(started.model_copy(update={"reason": "ThrottlingException", "message": "slow down"}))
    noted = repository.get("cert-a", 1, US)
    assert (noted.status, noted.reason, noted.message) == (PushStatus.IN_PROGRESS, "ThrottlingException", "slow down")

    final = _final(noted, clock, PushStatus.SUCCEEDED, target_id="arn:1", reason=None, message="imported")
    assert repository.finish(final)
    repository.note_error(started.model_copy(update={"reason": "LATE", "message": "too late"}))
    assert repository.get("cert-a", 1, US) == final


def test_note_error_may_refund_the_attempt_a_throttle_took(
    repository: RecordsRepository, new_record: Callable[..., PushRecord]
):
    record = new_record()
    repository.start_push(record)
    started = claim_push(repository, record)
    assert started.attempts == 1

    noted = started.model_copy(update={"reason": "APIGW.0308", "message": "throttled"})
    assert repository.note_error(noted, refund_attempt=True)
    assert repository.get("cert-a", 1, US).attempts == 0
    again = claim_push(repository, repository.get("cert-a", 1, US))  # the next delivery claims it as read
    assert again.attempts == 1
    assert repository.note_error(again.model_copy(update={"reason": "HTTP_500"}))  # a failure keeps its count
    assert repository.get("cert-a", 1, US).attempts == 1


# -- finish ------------------------------------------------------------------------------------------
def test_finish_happens_once(repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock):
    record = new_record()
    repository.start_push(record)
    started = claim_push(repository, record)
    succeeded = _final(started, clock, PushStatus.SUCCEEDED, target_id="arn:1")

    assert repository.finish(succeeded) is True
    assert repository.finish(succeeded) is False  # a duplicated message
    assert repository.finish(_final(started, clock, PushStatus.FAILED, reason="LATE")) is False

    assert repository.get("cert-a", 1, US) == _stored(succeeded)
    assert repository.history("cert-a") == [_stored(succeeded)]


def test_finish_of_another_push_loses(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    intruder = _final(new_record(), clock, PushStatus.SUCCEEDED, target_id="arn:other")

    assert repository.finish(intruder) is False
    assert repository.get("cert-a", 1, US) == record
    assert repository.history("cert-a") == []
    assert repository.binding("cert-a", US) is None


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
def test_the_binding_follows_the_last_live_push(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    assert repository.binding("cert-a", US) is None

    _run(repository, clock, new_record(version=1), PushStatus.SUCCEEDED, "arn:v1")
    assert repository.binding("cert-a", US) == Binding(target_id="arn:v1", version=1)

    _run(repository, clock, new_record(version=2), PushStatus.FAILED)
    assert repository.binding("cert-a", US) == Binding(target_id="arn:v1", version=1)

    _run(repository, clock, new_record(version=3), PushStatus.SUCCEEDED, "arn:v3")
    assert repository.binding("cert-a", US) == Binding(target_id="arn:v3", version=3)
    assert repository.binding("cert-a", EU) is None
    assert repository.binding("cert-b", US) is None


def test_force_replaces_a_succeeded_push_and_the_history_says_so(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    _run(repository, clock, new_record(), PushStatus.SUCCEEDED, "arn:v1")
    again = new_record(issuance_id="iss-2").model_copy(update={"forced": True})
    assert not repository.start_push(again)
    assert repository.start_push(again, force=True)
    started = claim_push(repository, again.model_copy(update={"updated_at": clock.now()}))
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
    assert repository.binding("cert-a", US) is None
    assert repository.start_push(new_record(issuance_id="iss-3"))


# -- forget -------------------------------------------------------------------------------------------
def test_forget_removes_a_targets_records_history_and_binding_only(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    typo = TargetKey(provider="aws", service="elb", region="mars-1")
    rejected = new_record(target=typo).model_copy(
        update={"status": PushStatus.REJECTED, "reason": "REGION_NOT_OFFERED", "message": "no such region"}
    )
    repository.record_rejection(rejected, keep_current=False)
    repository.record_rejection(new_record(version=2, target=typo).model_copy(update=rejected.model_dump(
        include={"status", "reason", "message"})), keep_current=False)  # fmt: skip
    clock.advance(seconds=1)
    failed = _run(repository, clock, new_record(target=EU), PushStatus.FAILED)
    clock.advance(seconds=1)
    kept = _run(repository, clock, new_record(), PushStatus.SUCCEEDED, "arn:v1")

    assert repository.forget("cert-a", typo) == 2
    assert repository.forget("cert-a", EU) == 1
    assert repository.forget("cert-a", typo) == 0  # nothing left: nothing to do

    assert repository.list_current("cert-a") == [kept]
    assert [r.target for r in repository.history("cert-a", 10)] == [US]
    assert repository.binding("cert-a", EU) is None
    assert failed.target == EU
    binding = repository.binding("cert-a", US)
    assert binding is not None and binding.target_id == "arn:v1"


def test_forget_refuses_a_target_in_flight_or_holding_a_certificate(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    pending = new_record(target=EU)
    assert repository.start_push(pending)
    with pytest.raises(RecordsInUseError, match="PENDING"):
        repository.forget("cert-a", EU)
    pushed = _run(repository, clock, new_record(), PushStatus.SUCCEEDED, "arn:v1")
    with pytest.raises(RecordsInUseError, match="retract"):
        repository.forget("cert-a", US)
    assert {r.status for r in repository.list_current("cert-a")} == {PushStatus.PENDING, PushStatus.SUCCEEDED}

    assert repository.record_retraction(pushed.model_copy(update={"updated_at": clock.now()}))
    assert repository.forget("cert-a", US) == 1  # retracted: the target holds nothing of it
    assert [r.target for r in repository.list_current("cert-a")] == [EU]


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

    started = claim_push(repository, pending)
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


# -- issuances ---------------------------------------------------------------------------------------
def _issuance(clock: FixedClock, targets: list[TargetKey]) -> Issuance:
    return Issuance(issuance_id="iss-1", certificate_id="cert-a", version=1, targets=targets, created_at=clock.now())


def test_issuance_summary_comes_until_it_is_marked_sent(repository: RecordsRepository, clock: FixedClock):
    repository.put_issuance(_issuance(clock, [US, EU, WAF]))

    assert repository.note_finals("iss-1", {US: PushStatus.SUCCEEDED}) is None
    assert repository.note_finals("iss-1", {US: PushStatus.SUCCEEDED}) is None  # a redelivered stream record
    assert repository.note_finals("iss-1", {EU: PushStatus.FAILED}) is None
    summary = repository.note_finals("iss-1", {WAF: PushStatus.REJECTED})

    assert summary is not None
    assert (summary.issuance_id, summary.certificate_id, summary.version) == ("iss-1", "cert-a", 1)
    assert (summary.total, summary.outcome) == (3, "PARTIAL")
    assert (summary.counts.succeeded, summary.counts.failed, summary.counts.rejected) == (1, 1, 1)
    assert summary.targets == {str(EU): "FAILED", str(WAF): "REJECTED", str(US): "SUCCEEDED"}

    # not marked sent yet (say the publish failed): a redelivery gets the summary again
    assert repository.note_finals("iss-1", {WAF: PushStatus.REJECTED}) == summary
    repository.mark_summary_sent("iss-1")
    for target in (WAF, US, EU, WAF):
        assert repository.note_finals("iss-1", {target: PushStatus.SUCCEEDED}) is None


def test_issuance_progress(repository: RecordsRepository, clock: FixedClock):
    assert repository.get_issuance("iss-1") is None
    repository.put_issuance(_issuance(clock, [US, EU]))

    progress = repository.get_issuance("iss-1")
    assert progress is not None
    assert (progress.certificate_id, progress.version, progress.done) == ("cert-a", 1, False)
    assert progress.targets == [str(US), str(EU)]
    assert progress.outcomes == {}

    repository.note_finals("iss-1", {EU: PushStatus.FAILED})
    repository.put_issuance(_issuance(clock, [US, EU]))  # a redelivered event does not reset progress
    progress = repository.get_issuance("iss-1")
    assert (progress.outcomes, progress.done) == ({str(EU): "FAILED"}, False)

    summary = repository.note_finals("iss-1", {US: PushStatus.SUCCEEDED})
    assert summary is not None
    assert summary.outcome == "PARTIAL"
    assert repository.get_issuance("iss-1").done is True


def test_issuance_all_succeeded(repository: RecordsRepository, clock: FixedClock):
    repository.put_issuance(_issuance(clock, [US]))

    summary = repository.note_finals("iss-1", {US: PushStatus.SUCCEEDED})

    assert summary is not None
    assert (summary.outcome, summary.total, summary.counts.succeeded) == ("SUCCEEDED", 1, 1)


def test_note_final_of_an_unknown_issuance_returns_nothing(repository: RecordsRepository):
    assert repository.note_finals("never-recorded", {US: PushStatus.SUCCEEDED}) is None
    assert repository.get_issuance("never-recorded") is None


def test_outcomes_of_several_targets_in_one_write(repository: RecordsRepository, clock: FixedClock):
    repository.put_issuance(_issuance(clock, [US, EU, WAF]))

    assert repository.note_finals("iss-1", {US: PushStatus.SUCCEEDED, EU: PushStatus.FAILED}) is None
    summary = repository.note_finals("iss-1", {EU: PushStatus.FAILED, WAF: "ALREADY_PUSHED"})

    assert summary is not None
    assert summary.targets == {str(US): "SUCCEEDED", str(EU): "FAILED", str(WAF): "ALREADY_PUSHED"}
    assert repository.note_finals("never-recorded", {US: PushStatus.SUCCEEDED}) is None


# -- issue 16: the binding's version, the lease that holds, REPLACED, ATTACH_FAILED -----------------------
def _state(repository: RecordsRepository, record: PushRecord) -> PushState:
    key = (record.certificate_id, record.version, record.target)
    return repository.push_states([key])[key]


def _claim(repository: RecordsRepository, record: PushRecord, now: datetime, lease_seconds: int = 60) -> PushRecord:
    """Claims as the worker does: on the state it just read."""
    claimed = repository.claim(_state(repository, record), now, lease_seconds).record
    assert claimed is not None
    return claimed


def _pushed(
    repository: RecordsRepository,
    clock: FixedClock,
    record: PushRecord,
    target_id: str,
    status: PushStatus = PushStatus.SUCCEEDED,
    replacing: int | None = None,
) -> PushRecord:
    """A push that reached ``status`` with its certificate ``target_id`` in the target."""
    assert repository.start_push(record)
    claimed = _claim(repository, record, clock.now())
    final = _final(claimed, clock, status, target_id=target_id, upload_action=UploadAction.CREATED)
    assert repository.finish(final, replacing=replacing)
    return _stored(final)


def test_push_states_read_each_record_with_its_binding(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    pushed = _pushed(repository, clock, new_record(version=1), "arn:1")
    pending = new_record(version=2)
    repository.start_push(pending)
    wanted = [("cert-a", 2, US), ("cert-a", 1, US), ("cert-a", 1, EU), ("cert-b", 1, US)]

    states = repository.push_states(wanted)

    assert set(states) == set(wanted)
    assert states[("cert-a", 2, US)] == PushState(record=pending, binding=Binding(target_id="arn:1", version=1))
    assert states[("cert-a", 1, US)].record == pushed
    assert states[("cert-a", 1, EU)] == PushState() == states[("cert-b", 1, US)]


def test_a_claim_holds_the_record_and_the_binding_with_one_token(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    now = clock.now()

    claimed = repository.claim(_state(repository, record), now, 60)

    assert claimed.record is not None and claimed.binding is not None
    token = claimed.record.lease_token
    assert token and claimed.binding.lease_token == token
    assert claimed.record.lease_until == claimed.binding.lease_until == now + timedelta(seconds=60)
    assert (claimed.record.status, claimed.record.attempts, claimed.record.updated_at) == (
        PushStatus.IN_PROGRESS,
        1,
        now,
    )
    assert _state(repository, record) == claimed  # what it says is what is stored


def test_the_binding_only_moves_forward_an_older_version_is_superseded(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    _pushed(repository, clock, new_record(version=2), "arn:x")
    older = new_record(version=1)
    repository.start_push(older)

    with pytest.raises(SupersededPushError) as refused:
        repository.claim(_state(repository, older), clock.now(), 60)

    assert refused.value.held_version == 2
    assert repository.get("cert-a", 1, US) == older  # nothing written: not even an attempt
    assert repository.binding("cert-a", US) == Binding(target_id="arn:x", version=2)
    # the refused push ends SUPERSEDED without a claim; the binding stays on version 2
    ended = _final(older, clock, PushStatus.SUPERSEDED, reason="NEWER_VERSION")
    assert repository.finish(ended)
    assert repository.get("cert-a", 1, US) == ended
    assert repository.binding("cert-a", US) == Binding(target_id="arn:x", version=2)


def test_a_rollback_may_move_the_binding_back_and_replaces_the_newer_record(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    _pushed(repository, clock, new_record(version=1), "arn:x")
    _pushed(repository, clock, new_record(version=2), "arn:x", replacing=1)
    back = new_record(version=1, issuance_id="rollback").model_copy(update={"rollback": True})
    assert repository.start_push(back)  # the REPLACED record of version 1 gives way

    rolled_back = _pushed_after_start(repository, clock, back, "arn:x", replacing=2)

    assert repository.binding("cert-a", US) == Binding(target_id="arn:x", version=1)
    assert repository.get("cert-a", 1, US) == rolled_back and rolled_back.rollback
    newer = repository.get("cert-a", 2, US)
    assert newer is not None
    assert (newer.status, newer.reason, newer.replaced_by) == (PushStatus.REPLACED, "REPLACED_BY", 1)
    assert newer.message == "replaced in place by v1"


def _pushed_after_start(
    repository: RecordsRepository, clock: FixedClock, record: PushRecord, target_id: str, replacing: int | None
) -> PushRecord:
    claimed = _claim(repository, record, clock.now())
    final = _final(claimed, clock, PushStatus.SUCCEEDED, target_id=target_id)
    assert repository.finish(final, replacing=replacing)
    return _stored(final)


def test_a_renewal_in_place_marks_the_replaced_record_in_the_same_finish(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    first = _pushed(repository, clock, new_record(version=1), "arn:x")
    elsewhere = _pushed(repository, clock, new_record(version=1, target=EU), "arn:eu")

    second = _pushed(repository, clock, new_record(version=2), "arn:x", replacing=1)

    replaced = repository.get("cert-a", 1, US)
    assert replaced == first.model_copy(
        update={
            "status": PushStatus.REPLACED,
            "reason": "REPLACED_BY",
            "message": "replaced in place by v2",
            "replaced_by": 2,
            "updated_at": second.updated_at,
        }
    )
    assert repository.by_status(PushStatus.REPLACED) == [replaced]
    assert repository.get("cert-a", 1, EU) == elsewhere  # another target's record is its own
    assert repository.history("cert-a", 1) == [second]  # a replacement is no push of its own


def test_replacing_leaves_a_record_that_names_another_certificate_or_is_not_live(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    first = _pushed(repository, clock, new_record(version=1), "arn:old")
    _pushed(repository, clock, new_record(version=2), "arn:new", replacing=1)  # a new certificate: v1 stays
    assert repository.get("cert-a", 1, US) == first
    again = new_record(version=1, issuance_id="forced").model_copy(update={"forced": True})
    assert repository.start_push(again, force=True)  # version 1 is being pushed again: not live

    assert _pushed(repository, clock, new_record(version=3), "arn:old", replacing=1)  # the finish still happens

    assert repository.get("cert-a", 1, US) == again
    assert repository.binding("cert-a", US) == Binding(target_id="arn:old", version=3)


def test_attach_failed_is_live_the_binding_moves_to_it(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    _pushed(repository, clock, new_record(version=1), "arn:x")

    failed_attach = _pushed(
        repository, clock, new_record(version=2), "arn:x", status=PushStatus.ATTACH_FAILED, replacing=1
    )

    assert repository.binding("cert-a", US) == Binding(target_id="arn:x", version=2)
    assert repository.get("cert-a", 2, US) == failed_attach
    assert repository.get("cert-a", 1, US).status is PushStatus.REPLACED
    assert repository.start_push(new_record(version=2, issuance_id="replay"))  # a replay takes its place


def test_pushes_of_one_certificate_to_one_target_run_one_at_a_time_across_versions(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    v1, v2 = new_record(version=1), new_record(version=2)
    repository.start_pushes([v1, v2])
    claimed = _claim(repository, v1, clock.now())

    with pytest.raises(PushInProgressError):
        _claim(repository, v2, clock.now())
    assert repository.get("cert-a", 2, US) == v2

    assert repository.finish(_final(claimed, clock, PushStatus.FAILED, reason="BOOM"))
    assert _claim(repository, v2, clock.now()).attempts == 1  # the binding's lease was given back


def test_a_worker_that_lost_its_lease_writes_nothing_and_attempts_count_exactly(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    stale = _claim(repository, record, clock.now(), 60)
    clock.advance(seconds=61)  # the first worker is slow: its lease runs out and a redelivery takes over
    current = _claim(repository, record, clock.now(), 60)
    assert (current.attempts, current.lease_token != stale.lease_token) == (2, True)

    later = clock.now()
    assert repository.extend_lease(stale, later + timedelta(seconds=60)) is False
    assert repository.note_error(stale.model_copy(update={"reason": "LATE", "updated_at": later})) is False
    assert repository.finish(_final(stale, clock, PushStatus.SUCCEEDED, target_id="arn:stale")) is False
    assert repository.get("cert-a", 1, US) == current
    assert repository.history("cert-a") == []
    assert repository.binding("cert-a", US) == Binding(lease_token=current.lease_token, lease_until=current.lease_until)

    done = _final(current, clock, PushStatus.SUCCEEDED, target_id="arn:1")
    assert repository.finish(done)
    assert repository.get("cert-a", 1, US) == _stored(done) and _stored(done).attempts == 2


def test_a_heartbeat_keeps_the_lease_of_a_long_push(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    claimed = _claim(repository, record, clock.now(), 60)
    clock.advance(seconds=40)
    assert repository.extend_lease(claimed, clock.now() + timedelta(seconds=60))

    clock.advance(seconds=40)  # 80 s after the claim: the original lease would have run out
    with pytest.raises(PushInProgressError):
        _claim(repository, record, clock.now())
    other_version = new_record(version=2)
    repository.start_push(other_version)
    with pytest.raises(PushInProgressError):  # the binding's lease was extended too
        _claim(repository, other_version, clock.now())

    assert repository.finish(_final(claimed, clock, PushStatus.SUCCEEDED, target_id="arn:1"))
    assert repository.get("cert-a", 1, US).attempts == 1


def test_note_error_keeps_the_upload_fact_and_gives_both_leases_back(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    claimed = _claim(repository, record, clock.now())
    noted = claimed.model_copy(
        update={
            "reason": "Throttling",
            "message": "attaching: slow down",
            "target_id": "arn:1",
            "upload_action": UploadAction.CREATED,
            "updated_at": clock.now(),
        }
    )

    assert repository.note_error(noted) is True

    stored = repository.get("cert-a", 1, US)
    assert stored == _stored(noted)
    assert repository.binding("cert-a", US) == Binding()  # no version yet: only the finish moves it
    retried = _claim(repository, record, clock.now())  # at once: no lease to wait for
    assert (retried.attempts, retried.target_id, retried.upload_action) == (2, "arn:1", UploadAction.CREATED)


def test_a_claim_on_an_out_of_date_state_reads_again(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    record = new_record()
    repository.start_push(record)
    seen = _state(repository, record)  # read by the batch, before another delivery's attempt
    first = _claim(repository, record, clock.now())
    repository.note_error(first.model_copy(update={"reason": "Throttling", "updated_at": clock.now()}))

    claimed = repository.claim(seen, clock.now(), 60).record

    assert claimed is not None and claimed.attempts == 2 and claimed.reason == "Throttling"


def test_a_finish_without_a_claim_waits_for_a_running_lease(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """The sweeper ends a push nobody holds: never one whose lease still runs."""
    record = new_record()
    repository.start_push(record)
    claimed = _claim(repository, record, clock.now(), 60)
    stuck = claimed.model_copy(update={"lease_token": None, "lease_until": None})

    assert repository.finish(_final(stuck, clock, PushStatus.FAILED, reason="STUCK")) is False
    clock.advance(seconds=61)
    assert repository.finish(_final(stuck, clock, PushStatus.FAILED, reason="STUCK")) is True
    assert repository.get("cert-a", 1, US).reason == "STUCK"


def test_a_last_look_noted_with_the_error_survives_the_claim_and_is_gone_once_final(
    repository: RecordsRepository, new_record: Callable[..., PushRecord], clock: FixedClock
):
    """``last_look`` (certpush.logic.push): written with the last attempt's unanswered error, still there
    for the delivery that claims the push after the settle wait (which only looks), gone with the
    final record; every store keeps it alike."""
    record = new_record()
    repository.start_push(record)
    started = claim_push(repository, record, now=clock.now())
    until = clock.now() + timedelta(seconds=30)
    noted = started.model_copy(
        update={"reason": "TIMEOUT", "message": "read timeout", "updated_at": clock.now(), "settle_until": until,
                "last_look": True}
    )  # fmt: skip
    assert repository.note_error(noted)
    assert repository.get("cert-a", 1, US).last_look

    looking = claim_push(repository, repository.get("cert-a", 1, US), now=until)

    assert looking.last_look and repository.get("cert-a", 1, US).last_look
    final = looking.model_copy(update={"status": PushStatus.FAILED, "updated_at": until, "last_look": False})
    assert repository.finish(final)
    assert not repository.get("cert-a", 1, US).last_look
