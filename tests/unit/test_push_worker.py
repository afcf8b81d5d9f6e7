"""PushWorker: one queue message -> one push -> a final record; RetryPolicy backoff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certpush.errors import (
    AuthenticationFailedError,
    ConfigurationError,
    PermanentPushError,
    PushInProgressError,
    PushSettlingError,
    ServiceUnavailableInRegionError,
    TransientDependencyError,
    TransientPushError,
)
from certpush.logic.issuances import Issuances, UnknownAttachmentError
from certpush.logic.push import PushWorker, RetryLater, RetryPolicy
from certpush.logic.validation import Validator
from certpush.models.domain import (
    Binding,
    CertificateStatus,
    CertificateVersion,
    PushRecord,
    PushRequest,
    PushStatus,
    TargetKey,
    TargetOptions,
    TargetSpec,
    UploadAction,
)
from certpush.models.events import CertificateIssuedDetail
from certpush.models.messages import PushMessage
from certpush_cli.sample_certificates import SampleCertificate
from tests.fakes import (
    FakeQueue,
    FixedClock,
    InMemoryCertificateStore,
    InMemoryRecordsRepository,
    RecordingPublisher,
    ScriptedTarget,
    claim_push,
)
from tests.unit.conftest import CERTIFICATE_ID, SteppingMonotonic, material_of

pytestmark = pytest.mark.unit

US_EAST_1 = TargetKey(provider="aws", service="elb", region="us-east-1")


@pytest.fixture
def push_message(
    validator: Validator, queue: FakeQueue, hosted_certificate: CertificateVersion
) -> Callable[..., PushMessage]:
    """Validates an issuance of one target and returns its queue message."""

    def make(
        provider: str = "aws", service: str = "elb", region: str = "us-east-1", event_id: str | None = None, **options
    ) -> PushMessage:
        # one event per target (an issuance is resolved once: a second event of the same id is a redelivery)
        event_id = event_id or f"event-{provider}-{service}-{region}"
        target = TargetSpec(provider=provider, service=service, regions=[region], options=TargetOptions(**options))
        outcome = validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, targets=[target]), event_id)
        assert outcome.rejected == {}
        return queue.messages[-1]

    return make


def current(records: InMemoryRecordsRepository, message: PushMessage) -> PushRecord:
    record = records.get(message.certificate_id, message.version, message.target)
    assert record is not None
    return record


def test_success_writes_a_succeeded_record_with_its_link(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    sample: SampleCertificate,
    push_message: Callable[..., PushMessage],
) -> None:
    message = push_message(attach=("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z",))

    result = worker.process(message, receive_count=1)

    assert result is not None
    assert result == current(records, message)
    assert result.status is PushStatus.SUCCEEDED
    assert result.target_id == "aws-elb-us-east-1-1"
    assert result.console_url == aws_elb.console_url("us-east-1", "aws-elb-us-east-1-1")
    assert result.duration_ms == 250
    assert result.attempts == 1
    assert result.reason is None
    assert result.upload_action is UploadAction.CREATED
    assert result.attached == ("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z",)
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id="aws-elb-us-east-1-1", version=1)
    assert records.history_items == [result]
    [request] = aws_elb.calls
    assert request.region == "us-east-1"
    assert request.material == material_of(sample)
    assert request.options.attach == ("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z",)
    assert request.previous_target_id is None


def test_the_attach_references_come_from_the_record_not_the_message(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    """A queue message is no authority: the references the validator recorded are the ones attached."""
    recorded = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/mine/1/2"
    message = push_message(attach=(recorded,))
    forged = message.model_copy(
        update={"options": TargetOptions(attach=("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/evil/1/2",))}
    )

    result = worker.process(forged, receive_count=1)

    assert result is not None and result.attached == (recorded,)
    [(request, _)] = aws_elb.attach_calls
    assert request.options == TargetOptions(attach=(recorded,))


def test_transient_error_retries_later_with_backoff(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    retry_policy: RetryPolicy,
    push_message: Callable[..., PushMessage],
) -> None:
    aws_elb.errors.append(TransientPushError("Throttling", "rate exceeded"))
    message = push_message()

    with pytest.raises(RetryLater) as retry:
        worker.process(message, receive_count=1)

    assert retry.value.delay_seconds == retry_policy.delay(1) == 7  # ceiling 10, jitter 0.5
    assert 5 <= retry.value.delay_seconds <= 10
    record = current(records, message)
    assert record.status is PushStatus.IN_PROGRESS
    assert record.attempts == 1
    assert record.reason == "Throttling"
    assert record.message == "rate exceeded"
    assert records.history_items == []

    result = worker.process(message, receive_count=2)

    assert result is not None
    assert result.status is PushStatus.SUCCEEDED
    assert result.attempts == 2
    assert result.reason is None
    assert len(aws_elb.calls) == 2


def test_an_ambiguous_error_waits_for_the_target_to_settle_before_looking_again(
    worker: PushWorker, aws_elb: ScriptedTarget, retry_policy: RetryPolicy, push_message: Callable[..., PushMessage]
) -> None:
    """A request that may have been carried out unseen (a timeout after it was sent) comes back no sooner than
    ``settle_seconds``, so that a create landing late is found by the retry's lookup; a plain throttle does not wait."""
    aws_elb.errors.append(TransientPushError("NETWORK", "read timeout", ambiguous=True))
    with pytest.raises(RetryLater) as retry:
        worker.process(push_message(), receive_count=1)
    assert retry.value.delay_seconds == retry_policy.settle_seconds == 30 > retry_policy.delay(1)

    aws_elb.errors.append(TransientPushError("Throttling", "rate exceeded"))
    with pytest.raises(RetryLater) as retry:
        worker.process(push_message(region="eu-west-1"), receive_count=1)
    assert retry.value.delay_seconds == retry_policy.delay(1) < retry_policy.settle_seconds


def test_no_delivery_retries_an_ambiguous_push_before_its_settle_wait_ends(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    retry_policy: RetryPolicy,
    push_message: Callable[..., PushMessage],
) -> None:
    """The wait is written on the record ("not before", with the error), not only in the message's
    visibility: a second delivery of the message already in flight is refused (PushSettlingError: no call
    to the target, no attempt counted), however soon after the error it comes; once the wait is over, any
    delivery retries, and the retry asks the target again (whose adapters look before they create)."""
    message = push_message()
    aws_elb.errors.append(TransientPushError("NETWORK", "read timeout", ambiguous=True))
    with pytest.raises(RetryLater):
        worker.process(message, receive_count=1)
    noted = current(records, message)
    assert noted.settle_until is not None and noted.attempts == 1 and noted.lease_token is None
    assert (noted.settle_until - noted.updated_at).total_seconds() == retry_policy.settle_seconds

    clock.advance(seconds=1)
    with pytest.raises(PushSettlingError) as settling:
        worker.process(message, receive_count=2)  # the twin delivery, 1 s after the error
    assert settling.value.seconds_left == retry_policy.settle_seconds - 1
    assert len(aws_elb.calls) == 1 and current(records, message) == noted

    clock.advance(seconds=retry_policy.settle_seconds)
    result = worker.process(message, receive_count=3)
    assert result is not None and (result.status, result.attempts) == (PushStatus.SUCCEEDED, 2)
    assert len(aws_elb.calls) == 2


def test_a_transient_error_that_is_not_ambiguous_writes_no_settle_wait(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    message = push_message()
    aws_elb.errors.append(TransientPushError("HTTP_503", "unavailable"))
    with pytest.raises(RetryLater):
        worker.process(message, receive_count=1)
    assert current(records, message).settle_until is None
    assert records.binding(CERTIFICATE_ID, US_EAST_1).settle_until is None


def test_a_long_throttle_comes_back_no_sooner_than_its_retry_after_and_counts_no_attempt(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    retry_policy: RetryPolicy,
    push_message: Callable[..., PushMessage],
) -> None:
    """429 with a Retry-After longer than an attempt waits: back through the queue, no sooner (coming back
    sooner only meets the target's flow control again), and the attempt is not counted."""
    aws_elb.errors.append(TransientPushError("APIGW.0308", "throttled", retry_after=600, throttled=True))
    message = push_message()
    with pytest.raises(RetryLater) as retry:
        worker.process(message, receive_count=1)
    assert retry.value.delay_seconds == 600 > retry_policy.delay(1)
    assert (current(records, message).attempts, current(records, message).reason) == (0, "APIGW.0308")

    final = worker.process(message, receive_count=2)
    assert final is not None and (final.status, final.attempts) == (PushStatus.SUCCEEDED, 1)


def test_a_short_throttle_is_waited_out_in_the_call(
    worker: PushWorker, aws_elb: ScriptedTarget, push_message: Callable[..., PushMessage]
) -> None:
    slept: list[float] = []
    worker.sleep = slept.append
    throttle = TransientPushError("APIGW.0308", "throttled", retry_after=3, throttled=True)
    aws_elb.errors.extend([throttle, throttle])
    aws_elb.attach_errors.append(TransientPushError("ThrottlingException", "rate exceeded", throttled=True))

    final = worker.process(push_message(), receive_count=1)

    assert final is not None and (final.status, final.attempts) == (PushStatus.SUCCEEDED, 1)
    assert slept == [3.0, 3.0, worker.retry.throttle_pause_seconds]  # Retry-After, else the pause
    assert len(aws_elb.calls) == 3 and len(aws_elb.attach_calls) == 2


def test_throttles_never_make_a_push_failed(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    retry_policy: RetryPolicy,
    push_message: Callable[..., PushMessage],
) -> None:
    """Throttled at every try of more deliveries than ``max_attempts``: each delivery waits what an attempt
    may, then comes back; the attempts stay uncounted and the push is never FAILED for it."""
    slept: list[float] = []
    worker.sleep = slept.append
    per_delivery = int(retry_policy.throttle_wait_seconds / retry_policy.throttle_pause_seconds) + 1
    deliveries = retry_policy.max_attempts + 2
    aws_elb.errors.extend(
        TransientPushError("ThrottlingException", "rate exceeded", throttled=True)
        for _ in range(per_delivery * deliveries)
    )
    message = push_message()
    for receive_count in range(1, deliveries + 1):
        with pytest.raises(RetryLater):
            worker.process(message, receive_count=receive_count)
        assert current(records, message).status is PushStatus.IN_PROGRESS
        assert current(records, message).attempts == 0
    assert sum(slept) <= deliveries * retry_policy.throttle_wait_seconds

    final = worker.process(message, receive_count=deliveries + 1)
    assert final is not None and (final.status, final.attempts) == (PushStatus.SUCCEEDED, 1)


def test_credentials_the_target_refuses_end_the_push_at_once(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    aws_elb.errors.append(AuthenticationFailedError("APIGW.0301", "APIGW.0301: the access key was refused"))
    message = push_message()
    final = worker.process(message, receive_count=1)
    assert final is not None and (final.status, final.reason) == (PushStatus.FAILED, "AUTH_FAILED")
    assert final.message is not None and "APIGW.0301" in final.message
    assert len(aws_elb.calls) == 1


def test_backoff_grows_with_the_attempts(
    worker: PushWorker, aws_elb: ScriptedTarget, push_message: Callable[..., PushMessage]
) -> None:
    aws_elb.errors.extend(TransientPushError("ServiceUnavailable", "503") for _ in range(2))
    message = push_message()
    delays = []
    for receive_count in (1, 2):
        with pytest.raises(RetryLater) as retry:
            worker.process(message, receive_count=receive_count)
        delays.append(retry.value.delay_seconds)

    assert delays == [7, 15]


def test_transient_error_until_max_attempts_fails_with_its_code(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    aws_elb.errors.extend(TransientPushError("Throttling", "rate exceeded") for _ in range(3))
    message = push_message()
    for receive_count in (1, 2):
        with pytest.raises(RetryLater):
            worker.process(message, receive_count=receive_count)

    result = worker.process(message, receive_count=3)

    assert result is not None
    assert result.status is PushStatus.FAILED
    assert result.reason == "Throttling"
    assert result.attempts == 3
    assert "gave up after 3 attempts" in (result.message or "")
    assert current(records, message) == result
    assert records.history_items == [result]
    assert len(aws_elb.calls) == 3


@dataclass
class LastLook:
    """A push whose every attempt ends without an answer (a timeout after the request was sent)."""

    worker: PushWorker
    target: ScriptedTarget
    records: InMemoryRecordsRepository
    clock: FixedClock
    policy: RetryPolicy

    def spend_attempts(self, message: PushMessage, *, unanswered: str = "upload") -> None:
        """Every attempt's ``unanswered`` step (upload or attach) goes unanswered; each comes back later."""
        errors = self.target.errors if unanswered == "upload" else self.target.attach_errors
        errors.extend(TransientPushError("NETWORK", "read timeout", ambiguous=True) for _ in range(self.attempts))
        for receive_count in range(1, self.attempts + 1):
            with pytest.raises(RetryLater) as retry:
                self.worker.process(message, receive_count=receive_count)
            assert retry.value.delay_seconds >= self.policy.settle_seconds
            self.clock.advance(seconds=retry.value.delay_seconds)

    @property
    def attempts(self) -> int:
        return self.policy.max_attempts

    def look(self, message: PushMessage) -> PushRecord:
        """The delivery after the last attempt's settle wait."""
        result = self.worker.process(message, receive_count=self.attempts + 1)
        assert result is not None
        return result


@pytest.fixture
def last_look(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    retry_policy: RetryPolicy,
) -> LastLook:
    return LastLook(worker, aws_elb, records, clock, retry_policy)


def test_after_an_ambiguous_last_attempt_a_copy_that_landed_late_is_found_and_recorded(
    last_look: LastLook, push_message: Callable[..., PushMessage]
) -> None:
    """House rule: a record never says a target lacks what it holds. The last attempt's request was sent and
    not answered; it lands after the worker gave up on it. The push is not FAILED at once: one more delivery,
    after the settle wait, looks (making nothing), finds the copy, attaches it and records it."""
    message = push_message(attach=(LISTENER,))
    last_look.spend_attempts(message)
    noted = current(last_look.records, message)
    assert (noted.status, noted.attempts, noted.reason) == (PushStatus.IN_PROGRESS, 3, "NETWORK")
    assert noted.settle_until is not None and noted.last_look  # no delivery looks before the wait is over
    late = "aws-elb-us-east-1-late"
    last_look.target.stored[late] = (CERTIFICATE_ID, 1, "us-east-1")  # the last attempt's import, landed late

    result = last_look.look(message)

    assert (result.status, result.target_id, result.attached) == (PushStatus.SUCCEEDED, late, (LISTENER,))
    assert result.attempts == last_look.attempts  # the look is no attempt
    assert len(last_look.target.calls) == last_look.attempts and len(last_look.target.finds) == 1  # no upload
    assert list(last_look.target.stored) == [late]
    assert last_look.records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id=late, version=1)


def test_after_an_ambiguous_last_attempt_that_left_nothing_the_push_fails_without_a_fourth_upload(
    last_look: LastLook, push_message: Callable[..., PushMessage]
) -> None:
    message = push_message()
    last_look.spend_attempts(message)

    result = last_look.look(message)

    assert (result.status, result.reason, result.attempts) == (PushStatus.FAILED, "NETWORK", last_look.attempts)
    assert "gave up after 3 attempts: read timeout" in (result.message or "")
    assert "nothing it sent had arrived" in (result.message or "")
    assert len(last_look.target.calls) == last_look.attempts and last_look.target.stored == {}
    assert last_look.records.history_items == [result]


def test_a_last_look_that_fails_says_the_target_may_hold_a_copy(
    last_look: LastLook, push_message: Callable[..., PushMessage]
) -> None:
    message = push_message()
    last_look.spend_attempts(message)
    last_look.target.find_errors.append(TransientPushError("HTTP_503", "unavailable"))

    result = last_look.look(message)

    assert result.status is PushStatus.FAILED and "may hold a copy" in (result.message or "")
    assert len(last_look.target.calls) == last_look.attempts


def test_a_throttled_last_look_looks_again_later_and_counts_no_attempt(
    last_look: LastLook, push_message: Callable[..., PushMessage]
) -> None:
    """A throttle never makes a push FAILED, not even during its last look: the look comes back after the
    wait the target asked for, still a look, and the final record counts the attempts alone."""
    message = push_message()
    last_look.spend_attempts(message)
    last_look.target.find_errors.append(TransientPushError("APIGW.0308", "throttled", retry_after=600, throttled=True))
    with pytest.raises(RetryLater) as retry:
        last_look.look(message)
    assert retry.value.delay_seconds >= 600
    assert current(last_look.records, message).last_look
    last_look.clock.advance(seconds=retry.value.delay_seconds)

    result = last_look.look(message)

    assert (result.status, result.attempts) == (PushStatus.FAILED, last_look.attempts)
    assert "gave up after 3 attempts" in (result.message or "") and len(last_look.target.finds) == 2
    assert not result.last_look


def test_an_attach_unanswered_on_the_last_attempt_is_attached_again_once_and_recorded(
    last_look: LastLook, push_message: Callable[..., PushMessage]
) -> None:
    """The upload was done; the last attempt's attach was sent and not answered (the listener may hold the
    certificate, or not). Not ATTACH_FAILED at once: the look attaches again (idempotent, no copy made)
    and the record says what holds it. A look whose attach goes unanswered too ends ATTACH_FAILED."""
    message = push_message(attach=(LISTENER,))
    last_look.spend_attempts(message, unanswered="attach")
    assert current(last_look.records, message).last_look

    result = last_look.look(message)

    assert (result.status, result.attached, result.attempts) == (PushStatus.SUCCEEDED, (LISTENER,), 3)
    assert len(last_look.target.calls) == last_look.attempts and last_look.target.finds == []  # the recorded upload
    assert list(last_look.target.stored) == [result.target_id]

    again = push_message(region="eu-west-1", attach=(LISTENER,))
    last_look.spend_attempts(again, unanswered="attach")
    last_look.target.attach_errors.append(TransientPushError("NETWORK", "read timeout", ambiguous=True))
    assert last_look.look(again).status is PushStatus.ATTACH_FAILED  # looked once: no second look


def test_a_last_attempt_with_a_plain_error_fails_at_once_without_a_look(
    worker: PushWorker, aws_elb: ScriptedTarget, push_message: Callable[..., PushMessage]
) -> None:
    """Only a request that may have been carried out is looked for: a refusal or a 503 made nothing."""
    message = push_message()
    aws_elb.errors.extend(TransientPushError("HTTP_503", "unavailable") for _ in range(3))
    for receive_count in (1, 2):
        with pytest.raises(RetryLater):
            worker.process(message, receive_count=receive_count)

    result = worker.process(message, receive_count=3)

    assert result is not None and result.status is PushStatus.FAILED and aws_elb.finds == []


def test_receive_count_at_max_attempts_fails_even_when_few_attempts_were_counted(
    worker: PushWorker, aws_elb: ScriptedTarget, push_message: Callable[..., PushMessage]
) -> None:
    """Deliveries that crashed before counting an attempt still count through SQS's receive count."""
    aws_elb.errors.append(TransientPushError("Timeout", "read timed out"))

    result = worker.process(push_message(), receive_count=3)

    assert result is not None
    assert result.status is PushStatus.FAILED
    assert result.reason == "Timeout"


@pytest.mark.parametrize(
    "error",
    [
        PermanentPushError("CertificateRejected", "the target refused the certificate"),
        ServiceUnavailableInRegionError("WAF.00014002", "WAF is not enabled in this region"),
    ],
    ids=["permanent", "service-unavailable-in-region"],
)
def test_permanent_error_fails_at_once(
    error: PermanentPushError,
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    aws_elb.errors.append(error)
    message = push_message()

    result = worker.process(message, receive_count=1)

    assert result is not None
    assert result.status is PushStatus.FAILED
    assert result.reason == error.code
    assert result.message == error.message
    assert result.attempts == 1
    assert result.target_id is None
    assert len(aws_elb.calls) == 1
    assert current(records, message) == result
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding()  # its lease given back, nothing held


def test_duplicate_message_after_success_is_ignored(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    message = push_message()
    first = worker.process(message, receive_count=1)

    assert worker.process(message, receive_count=2) is None

    assert len(aws_elb.calls) == 1
    assert current(records, message) == first
    assert len(records.history_items) == 1


def test_message_of_a_superseded_push_is_ignored(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    message = push_message()
    before = current(records, message)

    assert worker.process(message.model_copy(update={"push_id": "an-older-push"}), receive_count=1) is None

    assert aws_elb.calls == []
    assert current(records, message) == before


def test_message_without_a_record_is_ignored(worker: PushWorker, aws_elb: ScriptedTarget) -> None:
    message = PushMessage(
        push_id="p",
        issuance_id="i",
        certificate_id="nobody",
        version=1,
        provider="aws",
        service="elb",
        region="us-east-1",
    )

    assert worker.process(message, receive_count=1) is None
    assert aws_elb.calls == []


def test_a_new_version_renews_the_previous_one_in_place_and_its_record_says_replaced(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    renewed: SampleCertificate,
    store_certificate: Callable[..., CertificateVersion],
    push_message: Callable[..., PushMessage],
) -> None:
    first = worker.process(push_message(event_id="v1"), receive_count=1)
    assert first is not None and first.target_id
    store_certificate(material_of(renewed))  # version 2

    second = worker.process(push_message(event_id="v2"), receive_count=1)

    assert second is not None and second.version == 2
    assert [c.certificate.version for c in aws_elb.calls] == [1, 2]
    assert aws_elb.calls[1].previous_target_id == first.target_id
    assert (second.target_id, second.upload_action) == (first.target_id, UploadAction.RENEWED_IN_PLACE)
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id=first.target_id, version=2)
    assert aws_elb.version_held(CERTIFICATE_ID, "us-east-1") == [2]
    replaced = records.get(CERTIFICATE_ID, 1, US_EAST_1)
    assert replaced is not None
    assert (replaced.status, replaced.reason, replaced.replaced_by) == (PushStatus.REPLACED, "REPLACED_BY", 2)
    assert replaced.message == "replaced in place by v2"


def test_target_without_an_adapter_fails_as_unknown_target(
    worker: PushWorker, records: InMemoryRecordsRepository, push_message: Callable[..., PushMessage]
) -> None:
    message = push_message("huaweicloud", "elb", "ap-southeast-1")  # offered, but no adapter in this worker

    result = worker.process(message, receive_count=1)

    assert result is not None
    assert result.status is PushStatus.FAILED
    assert result.reason == "UNKNOWN_TARGET"
    assert "huaweicloud:elb" in (result.message or "")
    assert current(records, message) == result


def test_configuration_error_fails_as_not_configured(
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    push_message: Callable[..., PushMessage],
) -> None:
    def unconfigured(request: PushRequest) -> None:
        raise ConfigurationError("no Huawei Cloud credentials in secret certpush/huaweicloud")

    target = ScriptedTarget("huaweicloud", "waf")
    target.during_upload = unconfigured
    worker = PushWorker(store=store, records=records, targets={("huaweicloud", "waf"): target}, clock=clock)

    result = worker.process(push_message("huaweicloud", "waf", "ap-southeast-1"), receive_count=1)

    assert result is not None
    assert result.status is PushStatus.FAILED
    assert result.reason == "NOT_CONFIGURED"
    assert "credentials" in (result.message or "")
    assert len(target.calls) == 1


def test_certificate_gone_before_the_push_fails(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    store: InMemoryCertificateStore,
    push_message: Callable[..., PushMessage],
) -> None:
    message = push_message()
    store.materials.clear()

    result = worker.process(message, receive_count=1)

    assert result is not None
    assert result.status is PushStatus.FAILED
    assert result.reason == "CERTIFICATE_NOT_FOUND"
    assert aws_elb.calls == []


def test_a_dependency_failing_after_the_claim_releases_the_lease(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    store: InMemoryCertificateStore,
    push_message: Callable[..., PushMessage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A throttled secret read must not hold the push for the lease's length: the next delivery of
    the message takes it at once and pushes."""
    message = push_message()
    read = store.get_material

    def throttled(certificate: CertificateVersion) -> object:
        raise TransientDependencyError("ThrottlingException", "secrets: rate exceeded")

    monkeypatch.setattr(store, "get_material", throttled)
    with pytest.raises(TransientDependencyError):
        worker.process(message, receive_count=1)
    monkeypatch.setattr(store, "get_material", read)

    result = worker.process(message, receive_count=2)

    assert result is not None and result.status is PushStatus.SUCCEEDED
    assert len(aws_elb.calls) == 1


def test_a_push_held_by_a_live_claim_is_not_taken_twice(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    push_message: Callable[..., PushMessage],
    records: InMemoryRecordsRepository,
    clock: FixedClock,
) -> None:
    message = push_message()
    claim_push(records, current(records, message), 90, now=clock.now())  # another invocation holds it

    with pytest.raises(PushInProgressError):
        worker.process(message, receive_count=2)
    assert aws_elb.calls == []


def test_certificate_revoked_after_validation_is_not_pushed(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    store: InMemoryCertificateStore,
    push_message: Callable[..., PushMessage],
) -> None:
    message = push_message()
    store.set_status(message.certificate_id, message.version, CertificateStatus.REVOKED)

    result = worker.process(message, receive_count=1)

    assert result is not None
    assert (result.status, result.reason) == (PushStatus.FAILED, "NOT_HOSTED")
    assert "REVOKED" in (result.message or "")
    assert aws_elb.calls == []


def test_worker_duration_uses_its_monotonic_clock(
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    push_message: Callable[..., PushMessage],
) -> None:
    worker = PushWorker(
        store=store,
        records=records,
        targets={("aws", "elb"): ScriptedTarget()},
        clock=clock,
        monotonic=SteppingMonotonic(step=1.5),
    )

    result = worker.process(push_message(), receive_count=1)

    assert result is not None and result.duration_ms == 1500


# -- RetryPolicy ------------------------------------------------------------------------------------
def _ceiling(policy: RetryPolicy, attempt: int) -> int:
    return min(policy.max_seconds, policy.base_seconds * 2 ** max(0, attempt - 1))


policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 50),
    base_seconds=st.integers(0, 900),
    max_seconds=st.integers(0, 43200),
)
jitters = st.floats(min_value=0, max_value=1, exclude_max=True)


@given(policy=policies, attempt=st.integers(-3, 60), jitter=jitters, retry_after=st.integers(0, 43_200))
def test_a_retry_after_is_a_floor_of_the_delay(
    policy: RetryPolicy, attempt: int, jitter: float, retry_after: int
) -> None:
    policy = RetryPolicy(policy.max_attempts, policy.base_seconds, policy.max_seconds, jitter=lambda: jitter)
    assert policy.delay(attempt, retry_after=retry_after) == max(policy.delay(attempt), retry_after)


@given(policy=policies, attempt=st.integers(-3, 60), jitter=jitters)
def test_delay_lies_between_half_the_ceiling_and_the_ceiling(policy: RetryPolicy, attempt: int, jitter: float) -> None:
    policy = RetryPolicy(policy.max_attempts, policy.base_seconds, policy.max_seconds, jitter=lambda: jitter)
    ceiling = _ceiling(policy, attempt)

    delay = policy.delay(attempt)

    assert ceiling // 2 <= delay <= ceiling
    assert delay <= policy.max_seconds


@given(policy=policies, attempt=st.integers(-3, 60), jitter=jitters, settle=st.integers(0, 900))
def test_an_ambiguous_delay_is_the_backoff_or_the_settle_time_whichever_is_longer(
    policy: RetryPolicy, attempt: int, jitter: float, settle: int
) -> None:
    policy = RetryPolicy(policy.max_attempts, policy.base_seconds, policy.max_seconds, settle, jitter=lambda: jitter)
    assert policy.delay(attempt, ambiguous=True) == max(policy.delay(attempt), settle)


@given(policy=policies, attempt=st.integers(1, 60))
def test_ceiling_never_shrinks_as_attempts_grow(policy: RetryPolicy, attempt: int) -> None:
    lowest = RetryPolicy(policy.max_attempts, policy.base_seconds, policy.max_seconds, jitter=lambda: 0.0)
    highest = RetryPolicy(policy.max_attempts, policy.base_seconds, policy.max_seconds, jitter=lambda: 0.999999)

    assert _ceiling(policy, attempt) <= _ceiling(policy, attempt + 1)
    assert lowest.delay(attempt) <= lowest.delay(attempt + 1)
    assert highest.delay(attempt) <= highest.delay(attempt + 1)
    assert lowest.delay(attempt) <= highest.delay(attempt)


def test_default_policy_uses_random_jitter_within_bounds() -> None:
    policy = RetryPolicy()

    assert all(5 <= policy.delay(1) <= 10 for _ in range(50))
    assert all(450 <= policy.delay(20) <= 900 for _ in range(50))


# -- issue 16: versions only move forward, upload then attach, the lease holds -------------------------
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/y/z"


@pytest.fixture
def two_versions(
    renewed: SampleCertificate,
    hosted_certificate: CertificateVersion,
    store_certificate: Callable[..., CertificateVersion],
) -> None:
    store_certificate(material_of(renewed))  # version 2


def test_an_older_version_retried_after_a_newer_one_succeeded_is_superseded_and_the_target_untouched(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    validator: Validator,
    queue: FakeQueue,
    two_versions: None,
) -> None:
    """v1 fails in an outage, v2 goes out, v1's retry comes last (it has the longer backoff)."""
    spec = TargetSpec(provider="aws", service="elb", regions=["us-east-1"])
    validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=1, targets=[spec]), "v1")
    v1 = queue.messages[-1]
    aws_elb.errors.append(TransientPushError("ServiceUnavailable", "regional outage"))
    with pytest.raises(RetryLater):
        worker.process(v1, receive_count=1)
    validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=2, targets=[spec]), "v2")
    v2 = worker.process(queue.messages[-1], receive_count=1)
    assert v2 is not None and v2.status is PushStatus.SUCCEEDED
    uploads = len(aws_elb.calls)

    late = worker.process(v1, receive_count=2)

    assert late is not None and late == current(records, v1)
    assert (late.status, late.reason) == (PushStatus.SUPERSEDED, "NEWER_VERSION")
    assert "holds version 2" in (late.message or "") and "--rollback" in (late.message or "")
    assert len(aws_elb.calls) == uploads and len(aws_elb.attach_calls) == 1  # the target was not touched
    assert aws_elb.version_held(CERTIFICATE_ID, "us-east-1") == [2]
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id=v2.target_id, version=2)
    assert current(records, queue.messages[-1]) == v2  # v2's record still says what is there
    assert late.attempts == 1  # no attempt counted for a push that did not run


def test_a_forced_push_of_an_older_version_is_superseded_too(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    validator: Validator,
    queue: FakeQueue,
    two_versions: None,
) -> None:
    spec = TargetSpec(provider="aws", service="elb", regions=["us-east-1"])
    for version in (1, 2):
        validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=version, targets=[spec]),
                           f"v{version}")  # fmt: skip
        worker.process(queue.messages[-1], receive_count=1)
    assert records.get(CERTIFICATE_ID, 1, US_EAST_1).status is PushStatus.REPLACED

    detail = CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=1, targets=[spec], force=True)
    validator.validate(detail, "forced")
    forced = worker.process(queue.messages[-1], receive_count=1)

    assert forced is not None and (forced.status, forced.forced) == (PushStatus.SUPERSEDED, True)
    assert aws_elb.version_held(CERTIFICATE_ID, "us-east-1") == [2]


def test_a_rollback_puts_the_older_version_back_and_marks_the_newer_record_replaced(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    validator: Validator,
    queue: FakeQueue,
    two_versions: None,
) -> None:
    spec = TargetSpec(provider="aws", service="elb", regions=["us-east-1"])
    for version in (1, 2):
        validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=version, targets=[spec]),
                           f"v{version}")  # fmt: skip
        worker.process(queue.messages[-1], receive_count=1)

    detail = CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, version=1, targets=[spec], rollback=True)
    validator.validate(detail, "rollback")
    back = worker.process(queue.messages[-1], receive_count=1)

    assert back is not None and (back.status, back.rollback) == (PushStatus.SUCCEEDED, True)
    assert back.upload_action is UploadAction.RENEWED_IN_PLACE
    assert aws_elb.calls[-1].previous_target_id == back.target_id  # in place, over version 2
    assert aws_elb.version_held(CERTIFICATE_ID, "us-east-1") == [1]
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id=back.target_id, version=1)
    newer = records.get(CERTIFICATE_ID, 2, US_EAST_1)
    assert newer is not None and (newer.status, newer.replaced_by) == (PushStatus.REPLACED, 1)
    assert records.history(CERTIFICATE_ID, 1)[0].rollback  # the history says it was a rollback


def test_a_failed_attach_after_the_upload_is_attach_failed_and_the_binding_names_the_new_version(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
    renewed: SampleCertificate,
    store_certificate: Callable[..., CertificateVersion],
) -> None:
    first = worker.process(push_message(event_id="v1"), receive_count=1)
    assert first is not None
    store_certificate(material_of(renewed))
    aws_elb.attach_errors.append(PermanentPushError("LISTENER_NOT_FOUND", f"adding the certificate to {LISTENER}"))

    result = worker.process(push_message(event_id="v2", attach=(LISTENER,)), receive_count=1)

    assert result is not None
    assert (result.status, result.reason) == (PushStatus.ATTACH_FAILED, "LISTENER_NOT_FOUND")
    assert (result.target_id, result.upload_action, result.attached) == (
        first.target_id,
        UploadAction.RENEWED_IN_PLACE,
        (),
    )
    assert "renewed in place" in (result.message or "") and LISTENER in (result.message or "")
    assert result.console_url  # the certificate is there: "Configure Now" applies
    assert aws_elb.version_held(CERTIFICATE_ID, "us-east-1") == [2]
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id=first.target_id, version=2)
    replaced = records.get(CERTIFICATE_ID, 1, US_EAST_1)
    assert replaced is not None and replaced.status is PushStatus.REPLACED  # v1 is gone from the target


def test_transient_attach_errors_until_attempts_run_out_end_attach_failed(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    aws_elb.attach_errors.extend(TransientPushError("Throttling", "slow down") for _ in range(3))
    message = push_message(attach=(LISTENER,))
    with pytest.raises(RetryLater):
        worker.process(message, receive_count=1)
    noted = current(records, message)
    assert (noted.status, noted.target_id, noted.upload_action) == (
        PushStatus.IN_PROGRESS,
        "aws-elb-us-east-1-1",
        UploadAction.CREATED,
    )  # the upload fact is recorded while the attach is retried
    with pytest.raises(RetryLater):
        worker.process(message, receive_count=2)

    result = worker.process(message, receive_count=3)

    assert result is not None and (result.status, result.reason) == (PushStatus.ATTACH_FAILED, "Throttling")
    assert "gave up after 3 attempts" in (result.message or "")
    assert len(aws_elb.stored) == 1  # three uploads, one certificate
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id=result.target_id, version=1)


def test_a_replay_of_attach_failed_attaches_only_and_can_drop_a_removed_attachment(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
    publisher: RecordingPublisher,
    validator: Validator,
    queue: FakeQueue,
) -> None:
    gone, kept = LISTENER, "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/kept/1/2"
    aws_elb.attach_errors.append(PermanentPushError("LISTENER_NOT_FOUND", f"no listener {gone}"))
    failed = worker.process(push_message(attach=(gone, kept)), receive_count=1)
    assert failed is not None and failed.status is PushStatus.ATTACH_FAILED
    uploads = len(aws_elb.calls)

    plan, issuance_id = Issuances(records, publisher, FixedClock()).replay(CERTIFICATE_ID, drop_attach=[gone])
    assert issuance_id is not None and [r.status for r in plan.failed] == [PushStatus.ATTACH_FAILED]
    validator.validate(publisher.issued[-1], "replay")
    replayed = worker.process(queue.messages[-1], receive_count=1)

    assert replayed is not None and replayed.status is PushStatus.SUCCEEDED
    assert len(aws_elb.calls) == uploads  # no upload: the binding says this version is there
    assert (replayed.upload_action, replayed.target_id, replayed.attached) == (
        UploadAction.REUSED,
        failed.target_id,
        (kept,),
    )
    assert aws_elb.attachments[failed.target_id] == [kept]


def test_a_replay_dropping_a_reference_no_target_names_is_refused(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
    publisher: RecordingPublisher,
) -> None:
    aws_elb.attach_errors.append(PermanentPushError("LISTENER_NOT_FOUND", "gone"))
    worker.process(push_message(attach=(LISTENER,)), receive_count=1)

    with pytest.raises(UnknownAttachmentError, match="listener/app/typo"):
        typo = LISTENER.replace("/x/", "/typo/")
        Issuances(records, publisher, FixedClock()).replay(CERTIFICATE_ID, drop_attach=[typo])
    assert publisher.issued == []


def test_a_heartbeat_keeps_a_long_push_s_lease(
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    push_message: Callable[..., PushMessage],
) -> None:
    """The target call outlasts the lease: the heartbeat extends it, so a second delivery waits instead
    of pushing at the same time, and the attempt counts once."""
    target = ScriptedTarget()
    worker = PushWorker(
        store=store, records=records, targets={("aws", "elb"): target}, clock=clock, lease_seconds=90,
        heartbeat_seconds=0.001,
    )  # fmt: skip
    message = push_message()
    second_delivery: list[BaseException] = []

    def slow(request: PushRequest) -> None:
        clock.advance(seconds=200)  # far past the 90 s lease taken at the claim
        records.extended.clear()
        assert records.extended.wait(timeout=10), "no heartbeat while the target call ran"
        try:
            worker.process(message, receive_count=2)
        except PushInProgressError as exc:
            second_delivery.append(exc)

    target.during_upload = slow

    result = worker.process(message, receive_count=1)

    assert [type(e) for e in second_delivery] == [PushInProgressError]
    assert result is not None and (result.status, result.attempts) == (PushStatus.SUCCEEDED, 1)
    assert len(target.calls) == 1


def test_without_a_heartbeat_a_long_push_is_taken_over_and_its_stale_worker_writes_nothing(
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    push_message: Callable[..., PushMessage],
) -> None:
    """The lease lost (a heartbeat that could not run): the takeover pushes, counts attempt 2 and is
    what the record says; the first worker's finish is refused."""
    target = ScriptedTarget()
    worker = PushWorker(
        store=store, records=records, targets={("aws", "elb"): target}, clock=clock, lease_seconds=90,
        heartbeat_seconds=3600,
    )  # fmt: skip
    message = push_message()
    taken_over: list[PushRecord | None] = []

    def slow(request: PushRequest) -> None:
        if len(target.calls) == 1:
            clock.advance(seconds=200)
            taken_over.append(worker.process(message, receive_count=2))

    target.during_upload = slow

    stale = worker.process(message, receive_count=1)

    [takeover] = taken_over
    assert takeover is not None and (takeover.status, takeover.attempts) == (PushStatus.SUCCEEDED, 2)
    assert current(records, message) == takeover
    assert stale is not None and stale.attempts == 1  # what the stale worker meant to write ...
    assert records.history_items == [takeover]  # ... and did not


def test_a_later_attempt_failing_before_its_upload_keeps_what_an_earlier_attempt_uploaded(
    worker: PushWorker,
    aws_elb: ScriptedTarget,
    records: InMemoryRecordsRepository,
    push_message: Callable[..., PushMessage],
) -> None:
    """Attempt 1 uploads, then its attach meets a throttle; attempt 2's upload is refused for good. The
    certificate from attempt 1 is in the target: the record says ATTACH_FAILED, never FAILED."""
    aws_elb.attach_errors.append(TransientPushError("Throttling", "slow down"))
    message = push_message(attach=(LISTENER,))
    with pytest.raises(RetryLater):
        worker.process(message, receive_count=1)
    aws_elb.errors.append(PermanentPushError("QUOTA_EXCEEDED", "too many certificates"))

    result = worker.process(message, receive_count=2)

    assert result is not None and (result.status, result.reason) == (PushStatus.ATTACH_FAILED, "QUOTA_EXCEEDED")
    assert (result.target_id, result.upload_action) == ("aws-elb-us-east-1-1", UploadAction.CREATED)
    assert records.binding(CERTIFICATE_ID, US_EAST_1) == Binding(target_id="aws-elb-us-east-1-1", version=1)
