"""A wrong access key ends the push AUTH_FAILED after at most two calls (the first, and one after the
credentials were read again), never retried into the API gateway's lock (5 failures in a row lock an
AK for 5 minutes): the push worker with the real Huawei Cloud adapter, against the simulator."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from certpush.logic.push import PushWorker, RetryPolicy
from certpush.models.domain import PushStatus, TargetOptions, TargetSpec
from certpush.providers.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.targets import queued_pushes

pytestmark = pytest.mark.integration


def test_a_wrong_access_key_ends_the_push_auth_failed_after_at_most_two_calls(
    sim: HuaweiCloudSimulator, http_client: httpx.Client
) -> None:
    regions = ["cn-north-4", "ap-southeast-1", "eu-west-101"]
    target = TargetSpec(provider="huaweicloud", service="waf", regions=regions, options=TargetOptions())
    queued = queued_pushes([target])
    store, records, queue, clock = queued.store, queued.records, queued.queue, queued.clock
    reads: list[int] = []

    def wrong_key() -> HuaweiCloudCredentials:
        reads.append(1)
        return HuaweiCloudCredentials(access_key="AKWRONG", secret_key=SecretStr("wrong"))

    client = HuaweiCloudClient(
        wrong_key, reload_credentials=wrong_key, http_client=http_client, endpoint_template=sim.endpoint_template
    )
    worker = PushWorker(
        store=store,
        records=records,
        targets={("huaweicloud", "waf"): HuaweiWafTarget(client)},
        clock=clock,
        retry=RetryPolicy(max_attempts=5),
    )

    finals = [worker.process(message, receive_count=1) for message in queue.messages]

    assert [(f.status, f.reason) for f in finals if f is not None] == [(PushStatus.FAILED, "AUTH_FAILED")] * 3
    assert finals[0] is not None and finals[0].message is not None and "APIGW.0301" in finals[0].message
    assert finals[0].attempts == 1  # final at once: no retry through the queue
    assert len(sim.requests()) + sim.state()["stats"]["signature_failures"] <= 2  # refused calls are not recorded
    assert sim.state()["stats"]["signature_failures"] <= 2 < 5  # far from the gateway's lock
    assert len(reads) >= 2  # the secret was read again before giving up
