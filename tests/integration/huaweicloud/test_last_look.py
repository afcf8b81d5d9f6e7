"""The push worker's last look, against the Huawei Cloud simulator (record truth, issue 16's follow-up).

The last attempt's create is sent and not answered (the simulator closes the connection, then carries
the create out 0.3 s later). Before, the push ended FAILED at once while WAF came to hold the
certificate: a record saying the target lacks what it holds. Now one more delivery, after the settle
wait, looks without creating: it finds the late certificate, applies it and records it; when nothing
landed it says FAILED and WAF holds nothing."""

from __future__ import annotations

import pytest

from certpush.logic.push import PushWorker, RetryLater, RetryPolicy
from certpush.models.domain import PushStatus, TargetSpec
from certpush.models.messages import PushMessage
from certpush.providers.huaweicloud.client import HuaweiCloudClient
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.fakes import FixedClock, InMemoryRecordsRepository
from tests.integration.huaweicloud.test_huawei_idempotence import certificates, wait_for_late_creates
from tests.targets import queued_pushes

pytestmark = pytest.mark.integration

REGION = "cn-north-4"
SETTLE = 30


def _pushing(hw_client: HuaweiCloudClient) -> tuple[PushWorker, PushMessage, InMemoryRecordsRepository, FixedClock]:
    """One WAF push of a new certificate, queued by the validator; a worker with one attempt per push."""
    queued = queued_pushes([TargetSpec(provider="huaweicloud", service="waf", regions=[REGION])])
    store, records, queue, clock = queued.store, queued.records, queued.queue, queued.clock
    worker = PushWorker(
        store=store,
        records=records,
        targets={("huaweicloud", "waf"): HuaweiWafTarget(hw_client)},
        clock=clock,
        retry=RetryPolicy(max_attempts=1, settle_seconds=SETTLE, jitter=lambda: 0.5),
    )
    return worker, queue.messages[-1], records, clock


def _last_attempt_unanswered(worker: PushWorker, message: PushMessage, clock: FixedClock) -> None:
    with pytest.raises(RetryLater) as retry:
        worker.process(message, receive_count=1)
    assert retry.value.delay_seconds == SETTLE  # not FAILED: it comes back to look
    clock.advance(seconds=SETTLE)


def test_a_certificate_created_late_by_the_last_attempt_is_found_applied_and_recorded(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient
) -> None:
    worker, message, records, clock = _pushing(hw_client)
    hw_client.call("waf", REGION, "GET", "/v1/{project_id}/waf/certificate")  # the project id is known
    sim.set_late_creates(1, delay_seconds=0.3, services=["waf"])
    _last_attempt_unanswered(worker, message, clock)
    wait_for_late_creates(sim)  # what the settle wait is for

    result = worker.process(message, receive_count=2)

    [held] = certificates(sim, "waf", REGION)
    assert result is not None and (result.status, result.target_id) == (PushStatus.SUCCEEDED, held["id"])
    assert result.attempts == 1
    binding = records.binding("shop", result.target)
    assert binding is not None and (binding.target_id, binding.version) == (held["id"], 1)


def test_a_last_attempt_that_left_nothing_ends_failed_and_the_look_creates_nothing(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient
) -> None:
    worker, message, _, clock = _pushing(hw_client)
    sim.set_faults(failure_rate=1.0, kinds=("timeout",), seed=1)  # no answer, and nothing done
    _last_attempt_unanswered(worker, message, clock)
    sim.clear_faults()

    result = worker.process(message, receive_count=2)

    assert result is not None and result.status is PushStatus.FAILED
    assert "nothing it sent had arrived" in (result.message or "")
    assert certificates(sim, "waf", REGION) == []
