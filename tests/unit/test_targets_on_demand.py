"""The push worker's targets are built when a push first asks for them (issue 22, item 5): a batch of
AWS messages makes no Huawei Cloud client, and a target is built once whatever the threads asking."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest

from certpush.logic.certificate_rules import TargetCertificateRules
from certpush.ports import PushTarget
from certpush.providers.definition import BuildContext, PushTargetDefinition, TargetSettings
from certpush.providers.registry import DEFINITIONS, TargetRegistry
from certpush.settings import Settings
from certpush.wiring import TargetsOnDemand, build_targets
from tests.fakes import ScriptedTarget

pytestmark = pytest.mark.unit

REQUIRED = {"RECORDS_TABLE": "r", "INVENTORY_TABLE": "i", "PUSH_QUEUE_URL": "q", "EVENT_BUS_NAME": "b"}
BUILDS: list[str] = []
BUILDS_LOCK = threading.Lock()


class SlowSettings(TargetSettings):
    ENV_PREFIX: ClassVar[str] = "EXAMPLE_SLOW_"

    enabled: bool = False


def _build(settings: SlowSettings, context: BuildContext) -> PushTarget | None:
    # not a synchronisation: it widens the window in which the other threads ask, so that a build
    # left unguarded would run more than once (the test below fails then)
    threading.Event().wait(0.01)
    with BUILDS_LOCK:
        BUILDS.append("slow")
    return ScriptedTarget("example", "slow") if settings.enabled else None


SLOW = PushTargetDefinition(
    provider="example",
    service="slow",
    description="a target slow to build",
    regions=None,
    settings=SlowSettings,
    build=_build,
    rules=TargetCertificateRules(),
)
WITH_SLOW = TargetRegistry([*DEFINITIONS, SLOW])


@pytest.fixture(autouse=True)
def _no_builds_yet() -> None:
    BUILDS.clear()


def _targets(**environ: str) -> TargetsOnDemand:
    return build_targets(Settings.from_env({**REQUIRED, **environ}, WITH_SLOW), WITH_SLOW)


def test_nothing_is_built_before_a_push_asks_and_then_only_what_it_asks_for() -> None:
    targets = _targets(EXAMPLE_SLOW_ENABLED="1", HUAWEICLOUD_CREDENTIALS_SECRET_ID="hw")

    assert targets.built == []
    elb = targets.get(("aws", "elb"))

    assert elb is not None and (elb.provider, elb.service) == ("aws", "elb")
    assert targets.built == [("aws", "elb")]  # no Huawei Cloud client, no example target
    assert BUILDS == []


def test_a_target_is_built_once_whatever_the_threads_asking() -> None:
    targets = _targets(EXAMPLE_SLOW_ENABLED="1")

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: targets.get(("example", "slow")), range(16)))

    assert BUILDS == ["slow"]
    assert found[0] is not None and all(each is found[0] for each in found)


def test_a_target_this_deployment_is_not_configured_for_is_absent_and_built_once() -> None:
    targets = _targets()

    assert targets.get(("example", "slow")) is None
    assert ("example", "slow") not in targets
    assert BUILDS == ["slow"]
    assert targets.get(("nowhere", "none")) is None
    with pytest.raises(KeyError):
        targets[("example", "slow")]


def test_listing_the_targets_builds_them_all() -> None:
    targets = _targets(EXAMPLE_SLOW_ENABLED="1")

    assert ("example", "slow") in set(targets) and ("aws", "elb") in set(targets)
    assert len(targets) == len(set(targets))
    assert set(targets.built) == {(d.provider, d.service) for d in WITH_SLOW}


def test_the_huawei_cloud_http_client_is_traced_when_a_push_first_needs_it_not_before() -> None:
    """The push worker's Tracer patches httpx through ``BuildContext.instrument`` (functions/push_worker):
    a worker that pushes only to AWS never imports httpx; one that pushes to Huawei Cloud traces it."""
    traced: list[str] = []
    settings = Settings.from_env({**REQUIRED, "HUAWEICLOUD_CREDENTIALS_SECRET_ID": "hw"}, WITH_SLOW)
    targets = build_targets(settings, WITH_SLOW, instrument=traced.append)

    targets.get(("aws", "elb"))
    assert traced == []
    waf, elb = targets.get(("huaweicloud", "waf")), targets.get(("huaweicloud", "elb"))

    assert waf is not None and elb is not None
    assert traced == ["httpx"]  # once: the Huawei Cloud targets share one client


def test_what_targets_share_is_made_once_whatever_the_threads_asking() -> None:
    """BuildContext.shared (one Huawei Cloud client for every Huawei Cloud target) outside
    TargetsOnDemand's lock: the CLI's and the host's builders call it from threads of their own."""
    context = BuildContext(fetch_secret=lambda name: {})
    made: list[object] = []

    def make() -> object:
        threading.Event().wait(0.01)  # widens the window in which the others ask (not a synchronisation)
        made.append(object())
        return made[-1]

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda _: context.shared("client", make), range(16)))

    assert len(made) == 1 and all(each is made[0] for each in got)
