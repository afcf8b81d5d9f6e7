"""The fault suite, continued: a create that lands after the client timed out (issue 16, item 2).

The target carries the request out later than the client waited for its answer: ACM (the stack's
``LateLanding`` fault: the very signed ImportCertificate is sent again by the cloud's side 1 s after
the worker saw a read timeout) and, with the simulator's late-create fault, Huawei Cloud ELB and WAF
(WAF then allowing duplicate names, which its API reference does not rule out). The retry waits
``PushSettleSeconds`` after an ambiguous error, then looks (by tags in ACM, by name in Huawei Cloud)
before it creates: one copy per version, read back from moto and the simulator.

The wait is the record's, not the message's: an ambiguous error writes "not before" on the record and
the binding, and every claim before then is refused, whichever delivery asks. So these scenarios run with
the suite's short visibility timeout (2 s: a batch slower than that has its messages delivered again while
it runs), and ``settle-duplicate-delivery`` sends the message of each push a second time the moment its
ambiguous error is recorded: that delivery comes back after the wait instead of retrying at once.

On a fault stack of its own: the other scenarios run with no settle wait (their timeouts retry at
once); this one has 8 s, well past the landing's 1 s even when a busy machine delays the landing
(3 s was seen to leave duplicates at a load average of 10 on 2 cores), as the 30 s default is on AWS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from certpush.models.domain import PushRecord, PushStatus
from certpush.models.messages import PushMessage
from certpush_dev.local.aws_calls import AwsCallCounter
from certpush_dev.local.aws_hooks import LateLanding
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import eventually
from tests.e2e.fault_suite import (
    AWS_REGIONS,
    HUAWEI_REGIONS,
    Figures,
    Suite,
    Targets,
    body_of,
    fault_stack,
    finish,
    scaled,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

SETTLE_SECONDS = 8
LANDS_AFTER_SECONDS = 1.0
LATE_ACM = Targets(tuple(AWS_REGIONS[:5]))
LATE_HUAWEI = Targets((), tuple(HUAWEI_REGIONS[:5]), tuple(HUAWEI_REGIONS[:5]))
# the duplicate scenario's landing: after the duplicate delivery's lookup (had it been let through), or
# by a timer half-way through the wait (what a late import does when nothing looks for it meanwhile)
DUPLICATE_LANDS_AFTER_SECONDS = SETTLE_SECONDS / 2
DUPLICATED = Targets((AWS_REGIONS[0],))


@pytest.fixture(scope="module")
def stack(aws_calls: AwsCallCounter) -> Iterator[EmbeddedStack]:
    # the suite's 2 s visibility timeout: a message received again while its push settles must wait too
    # paced, as deployed: with pacing on, these scenarios left second ACM copies until the settle moved
    # from the message's visibility to the record (a paced retry outlived the short visibility)
    with fault_stack(PushSettleSeconds=str(SETTLE_SECONDS), paced=True) as running:
        yield running


def _fresh_import(params: dict[str, Any]) -> bool:
    """An ImportCertificate that makes a new certificate (a re-import in place names its ARN)."""
    return b'"CertificateArn"' not in body_of(params)


def test_an_acm_import_landing_after_the_timeout_is_found_not_made_again(suite: Suite):
    """The first import of each certificate in each region lands 1 s after the worker timed out; the
    retry settles 8 s, finds it by its tags (REUSED, attempt 2): one certificate per region."""
    started, figures = time.monotonic(), Figures("late-acm-import")
    certificate_ids = suite.import_certificates("late-acm", scaled(2), LATE_ACM)
    pushes = len(LATE_ACM.keys()) * len(certificate_ids)
    landing = LateLanding("acm:ImportCertificate", when=_fresh_import, times=pushes, after_seconds=LANDS_AFTER_SECONDS)
    suite.stack.aws_calls.late.append(landing)
    try:
        for certificate_id in certificate_ids:
            suite.push(certificate_id)
        suite.drive(certificate_ids, figures)
        eventually(lambda: len(landing.landed) == pushes, timeout=30, what="every late import")
    finally:
        landing.cancel()
        suite.stack.aws_calls.late.remove(landing)

    figures = finish(suite, figures, started)

    assert landing.landed == [200] * pushes
    for certificate_id in certificate_ids:
        for record in suite.current(certificate_id).values():
            assert (record.status, record.attempts, record.upload_action) == (PushStatus.SUCCEEDED, 2, "REUSED")
            assert record.message == "already in ACM", record
    assert figures.succeeded == pushes


def test_a_huawei_create_landing_after_the_timeout_is_found_not_made_again(suite: Suite):
    """Every first create of each certificate in Huawei Cloud ELB and WAF (which takes a second
    certificate of the same name) has its connection closed unanswered and lands 1 s later; the retry
    settles 8 s and finds it by name (REUSED, attempt 2): one certificate per region and service."""
    huawei: Any = suite.stack.emulators["huaweicloud"]
    started, figures = time.monotonic(), Figures("late-huawei-create")
    certificate_ids = suite.import_certificates("late-huawei", scaled(2), LATE_HUAWEI)
    pushes = len(LATE_HUAWEI.keys()) * len(certificate_ids)
    huawei.set_waf_refuses_duplicate_names(False)
    huawei.set_late_creates(pushes, LANDS_AFTER_SECONDS, ("waf", "elb"))
    try:
        for certificate_id in certificate_ids:
            suite.push(certificate_id)
        suite.drive(certificate_ids, figures)
        eventually(lambda: huawei.pending_late_creates() == 0, timeout=30, what="every late create")
    finally:
        huawei.set_late_creates(0, 0)

    figures = finish(suite, figures, started)

    assert huawei.state()["stats"].get("faults.late_create") == pushes
    for certificate_id in certificate_ids:
        for record in suite.current(certificate_id).values():
            assert (record.status, record.attempts, record.upload_action) == (PushStatus.SUCCEEDED, 2, "REUSED")
    assert figures.succeeded == pushes


def _settling(suite: Suite, certificate_id: str) -> tuple[PushRecord | None] | None:
    """Once the push's first attempt is over: its record while the ambiguous error is noted (lease given
    back, no second attempt yet), or None in the tuple when a second attempt began before it was seen
    (a delivery of the 2 s visibility timeout came back at once: the case this scenario is about, too)."""
    records = list(suite.current(certificate_id).values())
    if len(records) != 1:
        return None
    record = records[0]
    if record.attempts >= 2 or record.status.is_final:
        return (None,)
    if record.status is PushStatus.IN_PROGRESS and record.reason is not None and record.lease_token is None:
        return (record,)
    return None


def test_a_duplicate_delivery_during_the_settle_wait_does_not_retry_before_it(suite: Suite):
    """SQS delivers at least once: the moment a push's first ACM import has timed out (its import to land
    later), its message is delivered a second time. That delivery must not retry before the wait is over:
    let through, it would look (nothing there yet), the import would land just after, and it would import a
    second copy. Refused, it comes back after the wait, and the retry finds the landed import by its tags
    (REUSED, attempt 2): one certificate. One push at a time, so that each landing is its own push's.
    On the code before the record's settle wait (the wait only in the message's visibility) this left a
    second copy in every round (attempt 2 CREATED)."""
    started, figures = time.monotonic(), Figures("settle-duplicate-delivery")
    certificate_ids = suite.import_certificates("settle-duplicate", scaled(2), DUPLICATED)
    for certificate_id in certificate_ids:
        landing = LateLanding(
            "acm:ImportCertificate",
            when=_fresh_import,
            after_seconds=DUPLICATE_LANDS_AFTER_SECONDS,
            after="tagging:GetResources",
        )
        suite.stack.aws_calls.late.append(landing)
        try:
            suite.push(certificate_id)
            [noted] = eventually(lambda c=certificate_id: _settling(suite, c), timeout=60, what="the first attempt")
            if noted is not None:
                assert noted.attempts == 1 and noted.reason == "NETWORK", noted
                suite.sqs.send_message(
                    QueueUrl=suite.settings.push_queue_url, MessageBody=PushMessage.of(noted).model_dump_json()
                )
                figures.notes["duplicates_sent"] = int(figures.notes.get("duplicates_sent", 0)) + 1
            eventually(lambda c=certificate_id: suite.all_final([c]), timeout=60, what="the push final")
            eventually(lambda landing=landing: landing.landed, timeout=30, what="the late import")
        finally:
            landing.cancel()
            suite.stack.aws_calls.late.remove(landing)
    suite.drive(certificate_ids, figures)

    figures = finish(suite, figures, started)

    for certificate_id in certificate_ids:
        [record] = suite.current(certificate_id).values()
        assert (record.status, record.attempts, record.upload_action) == (PushStatus.SUCCEEDED, 2, "REUSED"), record
    assert figures.succeeded == len(certificate_ids)
    assert figures.notes["duplicates_sent"] == len(certificate_ids)  # every push had its duplicate delivery
