"""Notifier: "configure now" for every SUCCEEDED push, one summary per issuance once every target
is final. Driven here as the records stream drives it: by the history items, in order."""

from __future__ import annotations

import pytest

from certpush.errors import PermanentPushError, TransientDependencyError
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, TargetSpec
from certpush.models.events import CertificateIssuedDetail, IssuanceSummaryDetail
from tests.fakes import FakeQueue, InMemoryRecordsRepository, RecordingPublisher, ScriptedTarget
from tests.unit.conftest import CERTIFICATE_ID

pytestmark = pytest.mark.unit


class Pipeline:
    """Validator -> queue -> worker -> history -> notifier, on the fakes, one step at a time."""

    def __init__(
        self,
        validator: Validator,
        worker: PushWorker,
        records: InMemoryRecordsRepository,
        queue: FakeQueue,
        notifier: Notifier,
    ) -> None:
        self.validator, self.worker, self.records, self.queue, self.notifier = (
            validator,
            worker,
            records,
            queue,
            notifier,
        )
        self._sent = 0
        self._streamed = 0

    def issue(self, event_id: str, *targets: tuple[str, str, str]) -> None:
        specs = [TargetSpec(provider=p, service=s, regions=[r]) for p, s, r in targets]
        self.validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, targets=specs), event_id)

    def push_all(self) -> None:
        while self._sent < len(self.queue.messages):
            self.worker.process(self.queue.messages[self._sent], receive_count=1)
            self._sent += 1

    def stream(self) -> list[PushRecord]:
        """Hands every new history item to the notifier, as the stream does with inserts."""
        new = self.records.history_items[self._streamed :]
        self._streamed = len(self.records.history_items)
        for record in new:
            self.notifier.on_final(record)
        return new


@pytest.fixture
def pipeline(
    validator: Validator,
    worker: PushWorker,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    notifier: Notifier,
    hosted_certificate: CertificateVersion,
) -> Pipeline:
    return Pipeline(validator, worker, records, queue, notifier)


AWS_US = ("aws", "elb", "us-east-1")
AWS_EU = ("aws", "elb", "eu-west-1")
WAF_AP = ("huaweicloud", "waf", "ap-southeast-1")


def test_certificate_pushed_only_for_succeeded_pushes(
    pipeline: Pipeline, aws_elb: ScriptedTarget, publisher: RecordingPublisher
) -> None:
    aws_elb.errors.append(PermanentPushError("CertificateRejected", "refused"))
    pipeline.issue("event-1", AWS_US, WAF_AP, ("aws", "elb", "mars-north-1"))
    pipeline.push_all()

    finals = pipeline.stream()

    assert sorted(r.status.value for r in finals) == ["FAILED", "REJECTED", "SUCCEEDED"]
    [event] = publisher.pushed_events
    succeeded = next(r for r in finals if r.status is PushStatus.SUCCEEDED)
    assert (event.provider, event.service, event.region) == WAF_AP
    assert event.certificate_id == CERTIFICATE_ID
    assert event.version == succeeded.version
    assert event.target_id == succeeded.target_id
    assert event.console_url == succeeded.console_url
    assert event.push_id == succeeded.push_id
    assert event.issuance_id == "event-1"
    assert event.pushed_at == succeeded.updated_at


def test_summary_once_every_target_is_final(
    pipeline: Pipeline, aws_elb: ScriptedTarget, publisher: RecordingPublisher
) -> None:
    aws_elb.errors.append(PermanentPushError("CertificateRejected", "refused"))
    pipeline.issue("event-1", AWS_US, WAF_AP, ("aws", "elb", "mars-north-1"))
    pipeline.stream()  # the rejection comes first
    assert publisher.summaries == []
    pipeline.worker.process(pipeline.queue.messages[0], receive_count=1)
    pipeline.stream()
    assert publisher.summaries == []

    pipeline.push_all()
    pipeline.stream()

    [summary] = publisher.summaries
    assert summary == IssuanceSummaryDetail(
        issuance_id="event-1",
        certificate_id=CERTIFICATE_ID,
        version=1,
        total=3,
        counts={"succeeded": 1, "failed": 1, "rejected": 1},
        outcome="PARTIAL",
        targets={
            "aws:elb:mars-north-1": "REJECTED",
            "aws:elb:us-east-1": "FAILED",
            "huaweicloud:waf:ap-southeast-1": "SUCCEEDED",
        },
    )


def test_summary_outcome_succeeded_when_every_target_succeeded(
    pipeline: Pipeline, publisher: RecordingPublisher
) -> None:
    pipeline.issue("event-1", AWS_US, AWS_EU, WAF_AP)
    pipeline.push_all()
    pipeline.stream()

    [summary] = publisher.summaries
    assert summary.outcome == "SUCCEEDED"
    assert summary.counts.model_dump() == {
        "succeeded": 3,
        "failed": 0,
        "rejected": 0,
        "already_pushed": 0,
        "superseded": 0,
        "attach_failed": 0,
    }
    assert len(publisher.pushed_events) == 3


def test_summary_outcome_failed_when_nothing_succeeded(
    pipeline: Pipeline, aws_elb: ScriptedTarget, publisher: RecordingPublisher
) -> None:
    aws_elb.errors.append(PermanentPushError("AccessDenied", "no permission"))
    pipeline.issue("event-1", AWS_US, ("huaweicloud", "waf", "us-east-1"))
    pipeline.push_all()
    pipeline.stream()

    [summary] = publisher.summaries
    assert summary.outcome == "FAILED"
    assert summary.counts.model_dump() == {
        "succeeded": 0,
        "failed": 1,
        "rejected": 1,
        "already_pushed": 0,
        "superseded": 0,
        "attach_failed": 0,
    }
    assert publisher.pushed_events == []


def test_already_pushed_target_counts_as_rejected_but_in_place_in_its_issuance(
    pipeline: Pipeline, publisher: RecordingPublisher
) -> None:
    pipeline.issue("first", AWS_US)
    pipeline.push_all()
    pipeline.stream()

    pipeline.issue("second", AWS_US, AWS_EU)
    pipeline.push_all()
    pipeline.stream()

    first, second = publisher.summaries
    assert first.outcome == "SUCCEEDED"
    assert second.issuance_id == "second"
    assert second.counts.model_dump() == {
        "succeeded": 1,
        "failed": 0,
        "rejected": 1,
        "already_pushed": 1,
        "superseded": 0,
        "attach_failed": 0,
    }
    assert second.outcome == "SUCCEEDED"  # the version is now in both targets
    assert second.targets == {"aws:elb:eu-west-1": "SUCCEEDED", "aws:elb:us-east-1": "ALREADY_PUSHED"}
    assert [e.region for e in publisher.pushed_events] == ["us-east-1", "eu-west-1"]


def test_an_issuance_of_only_already_pushed_targets_is_succeeded(
    pipeline: Pipeline, publisher: RecordingPublisher
) -> None:
    pipeline.issue("first", AWS_US)
    pipeline.push_all()
    pipeline.stream()

    pipeline.issue("again", AWS_US)
    pipeline.stream()

    again = publisher.summaries[-1]
    assert (again.issuance_id, again.outcome, again.counts.already_pushed) == ("again", "SUCCEEDED", 1)


def test_a_rejection_that_is_not_already_pushed_is_not_in_place(
    pipeline: Pipeline, publisher: RecordingPublisher
) -> None:
    pipeline.issue("event-1", ("huaweicloud", "waf", "us-east-1"))
    pipeline.stream()

    [summary] = publisher.summaries
    assert (summary.outcome, summary.counts.rejected, summary.counts.already_pushed) == ("FAILED", 1, 0)


def test_duplicate_delivery_does_not_emit_a_second_summary(
    pipeline: Pipeline, notifier: Notifier, publisher: RecordingPublisher
) -> None:
    pipeline.issue("event-1", AWS_US, AWS_EU)
    pipeline.push_all()
    finals = pipeline.stream()

    for record in finals:  # the stream delivers again after a partial failure
        notifier.on_final(record)

    assert len(publisher.summaries) == 1
    assert len({e.push_id for e in publisher.pushed_events}) == 2


def test_a_summary_whose_publish_failed_is_published_when_the_stream_retries(
    pipeline: Pipeline, notifier: Notifier, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.issue("event-1", AWS_US, AWS_EU)
    pipeline.push_all()
    finals = pipeline.records.history_items[:]

    def bus_down(detail: IssuanceSummaryDetail) -> None:
        raise TransientDependencyError("ServiceUnavailable", "events: put_events")

    with monkeypatch.context() as patch:
        patch.setattr(publisher, "issuance_summary", bus_down)
        with pytest.raises(TransientDependencyError):
            pipeline.stream()
    for record in finals:  # the stream retries the batch from the failed record
        notifier.on_final(record)

    assert [s.issuance_id for s in publisher.summaries] == ["event-1"]


def test_redelivered_issuance_event_keeps_the_summary_right(pipeline: Pipeline, publisher: RecordingPublisher) -> None:
    pipeline.issue("event-1", AWS_US, AWS_EU)
    pipeline.worker.process(pipeline.queue.messages[0], receive_count=1)
    pipeline.stream()

    pipeline.issue("event-1", AWS_US, AWS_EU)  # EventBridge delivers the same event again
    pipeline.push_all()
    pipeline.stream()

    [summary] = publisher.summaries
    assert summary.outcome == "SUCCEEDED"
    assert summary.targets == {"aws:elb:eu-west-1": "SUCCEEDED", "aws:elb:us-east-1": "SUCCEEDED"}


def test_record_of_an_unknown_issuance_still_says_certificate_pushed(
    notifier: Notifier, records: InMemoryRecordsRepository, publisher: RecordingPublisher, pipeline: Pipeline
) -> None:
    pipeline.issue("event-1", AWS_US)
    pipeline.push_all()
    records.issuances.clear()  # e.g. written by an older version without issuance items

    pipeline.stream()

    assert len(publisher.pushed_events) == 1
    assert publisher.summaries == []


def test_a_stream_batch_writes_each_issuance_s_outcomes_once(
    pipeline: Pipeline, notifier: Notifier, records: InMemoryRecordsRepository, publisher: RecordingPublisher
) -> None:
    pipeline.issue("event-1", AWS_US, AWS_EU, WAF_AP)
    pipeline.push_all()

    with notifier.batch():
        pipeline.stream()
        assert publisher.pushed_events == []  # held until the batch ends

    assert records.outcome_writes == 1
    assert len(publisher.pushed_events) == 3
    [summary] = publisher.summaries
    assert summary.total == 3 and summary.outcome == "SUCCEEDED"
    assert records.issuances["event-1"].summary_sent


def test_a_summary_is_marked_sent_only_once_its_batch_was_published(
    pipeline: Pipeline, notifier: Notifier, records: InMemoryRecordsRepository, publisher: RecordingPublisher
) -> None:
    pipeline.issue("event-1", AWS_US, AWS_EU)
    pipeline.push_all()
    finals = pipeline.records.history_items[:]
    publisher.refuse_batches = 1  # the bus is down when the batch ends

    with pytest.raises(TransientDependencyError), notifier.batch():
        pipeline.stream()
    assert publisher.summaries == []
    assert not records.issuances["event-1"].summary_sent

    with notifier.batch():  # the stream delivers the batch again
        for record in finals:
            notifier.on_final(record)

    assert [s.issuance_id for s in publisher.summaries] == ["event-1"]
    assert records.issuances["event-1"].summary_sent
