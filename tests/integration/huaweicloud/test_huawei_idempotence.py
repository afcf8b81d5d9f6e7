"""One certificate per (certificate, version, region) on WAF and ELB, without relying on unique names
(neither documents refusing a taken certificate name): concurrent pushes of one version, and a create
that lands after its client gave up, leave exactly one; the push that finds a second one deletes it
and says so."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from certpush.errors import TransientPushError
from certpush.models.domain import PushRequest
from certpush.providers.huaweicloud.client import HuaweiCloudClient
from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator
from tests.targets import Pushed, push_to

pytestmark = pytest.mark.integration

MakeRequest = Callable[..., PushRequest]
PUSHERS = 6
REGIONS = ("cn-north-4", "ap-southeast-1")


def certificates(sim: HuaweiCloudSimulator, service: str, region: str) -> list[dict[str, Any]]:
    return list(sim.state()[service].get(region, {}).get("certificates", []))


def racing(target_class: type[HuaweiWafTarget] | type[HuaweiElbTarget], pushers: int) -> type:
    """The adapter, with every pusher's first lookup held until all have looked, and its create until
    all have created: each finds nothing, creates one, then finds them all (the worst interleaving of
    concurrent pushes: the most duplicates, every pusher deleting at the same time)."""
    looked, created = threading.Barrier(pushers), threading.Barrier(pushers)

    class Racing(target_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.first = True

        def list_named(self, region: str, name: str, **kwargs: Any) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = super().list_named(region, name, **kwargs)
            if self.first:
                self.first = False
                looked.wait(timeout=10)
            return found

        def find_by_fingerprint(self, *args: Any) -> None:  # ELB's second look: nothing yet either
            return None

        def _create(self, *args: Any) -> dict[str, Any]:
            made: dict[str, Any] = super()._create(*args)
            created.wait(timeout=10)
            return made

    return Racing


def wait_for_late_creates(sim: HuaweiCloudSimulator) -> None:
    """Polls the simulator until every late create has landed."""
    deadline = time.monotonic() + 10
    while sim.pending_late_creates():
        assert time.monotonic() < deadline, "a late create never landed"
        time.sleep(0.02)


@pytest.mark.parametrize("service", ["waf", "elb"])
def test_concurrent_pushes_of_one_version_leave_one_certificate_per_region(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest, service: str
) -> None:
    target_class = HuaweiWafTarget if service == "waf" else HuaweiElbTarget
    for region in REGIONS:
        request = make_request(region)
        racing_class = racing(target_class, PUSHERS)
        adapters = [racing_class(hw_client) for _ in range(PUSHERS)]
        with ThreadPoolExecutor(PUSHERS) as pool:
            results: list[Pushed] = list(pool.map(push_to, adapters, [request] * PUSHERS))
        assert sim.state()["stats"][f"{service}.create"] == PUSHERS  # they did race: each created one
        [kept] = certificates(sim, service, region)
        assert {result.target_id for result in results} == {kept["id"]}  # every pusher chose the same one
        assert any("removed duplicate" in (result.detail or "") for result in results)
        sim.reset()


@pytest.mark.parametrize("service", ["waf", "elb"])
def test_a_create_that_lands_after_the_client_gave_up_is_found_by_the_retry(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest, service: str
) -> None:
    """The retry after an ambiguous error settles first (the worker waits PUSH_SETTLE_SECONDS): by then
    the create has landed and the lookup finds it."""
    adapter = HuaweiWafTarget(hw_client) if service == "waf" else HuaweiElbTarget(hw_client)
    request = make_request()
    adapter.list_named(request.region, request.deterministic_name)  # the project id is known
    sim.set_late_creates(1, delay_seconds=0.3, services=[service])
    with pytest.raises(TransientPushError) as caught:
        adapter.upload(request)
    assert caught.value.ambiguous  # the connection closed unanswered: the create may have happened
    wait_for_late_creates(sim)  # what the settle time is for
    again = adapter.upload(request)
    [held] = certificates(sim, service, request.region)
    assert (again.target_id, again.action.value) == (held["id"], "REUSED")


@pytest.mark.parametrize("service", ["waf", "elb"])
def test_a_create_that_lands_after_an_unsettled_retry_is_removed_by_the_next_push(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest, service: str
) -> None:
    """Without the settle time the retry creates a second one; when the late one lands, the next push
    keeps the older of the two (what its binding names) and deletes the other, noting it."""
    adapter = HuaweiWafTarget(hw_client) if service == "waf" else HuaweiElbTarget(hw_client)
    request = make_request()
    adapter.list_named(request.region, request.deterministic_name)
    sim.set_late_creates(1, delay_seconds=0.3, services=[service])
    with pytest.raises(TransientPushError):
        adapter.upload(request)
    retried = adapter.upload(request)  # too soon: nothing listed yet, so it creates
    wait_for_late_creates(sim)
    assert len(certificates(sim, service, request.region)) == 2
    bound = request.model_copy(update={"previous_target_id": retried.target_id})
    next_push = adapter.upload(bound)
    [held] = certificates(sim, service, request.region)
    assert next_push.target_id == held["id"] == retried.target_id
    assert next_push.detail is not None and "removed duplicate" in next_push.detail


def test_a_duplicate_a_listener_uses_is_never_deleted(
    sim: HuaweiCloudSimulator, elb: HuaweiElbTarget, make_request: MakeRequest
) -> None:
    listener = sim.add_elb_listener("cn-north-4")
    request = make_request()
    first = push_to(elb, request)
    option = {**elb._option(request, request.deterministic_name), "type": "server"}
    second = elb._client.call(
        "elb", "cn-north-4", "POST", "/v3/{project_id}/elb/certificates", json_body={"certificate": option}
    )
    other = str(second["certificate"]["id"])
    elb._client.call(
        "elb", "cn-north-4", "PUT", f"/v3/{{project_id}}/elb/listeners/{listener}",
        json_body={"listener": {"default_tls_container_ref": other}},
    )  # fmt: skip
    again = elb.upload(request.model_copy(update={"previous_target_id": first.target_id}))
    assert again.target_id == first.target_id
    assert again.detail is not None and f"duplicate(s) {other} left: used by listeners" in again.detail
    assert {c["id"] for c in certificates(sim, "elb", "cn-north-4")} == {first.target_id, other}


@pytest.mark.parametrize("service", ["waf", "elb"])
def test_the_last_look_finds_a_late_create_and_makes_nothing_when_none_landed(
    sim: HuaweiCloudSimulator, hw_client: HuaweiCloudClient, make_request: MakeRequest, service: str
) -> None:
    """``find``: the push worker's look after an ambiguous last attempt (certpush.logic.push). Before the
    late create lands it finds nothing and creates nothing; once it has landed, it finds it."""
    adapter = HuaweiWafTarget(hw_client) if service == "waf" else HuaweiElbTarget(hw_client)
    request = make_request()
    assert adapter.find(request) is None
    sim.set_late_creates(1, delay_seconds=0.3, services=[service])
    with pytest.raises(TransientPushError) as caught:
        adapter.upload(request)
    assert caught.value.ambiguous
    assert adapter.find(request) is None  # too soon: not there yet
    assert certificates(sim, service, request.region) == []  # and the look made nothing
    wait_for_late_creates(sim)

    found = adapter.find(request)

    [held] = certificates(sim, service, request.region)  # the late one alone
    assert found is not None and (found.target_id, found.action.value) == (held["id"], "REUSED")
