"""The target registry: every module declares a whole target, and what reads the registry (the
validator, settings, wiring, the CLI's help, local inspection) follows it for any target, global or
regional, without naming one."""

from __future__ import annotations

from typing import ClassVar

import pytest
import typer

from certpush.logic.certificate_rules import TargetCertificateRules
from certpush.logic.validation import Validator
from certpush.models.domain import GLOBAL_REGION, PushStatus, RejectReason, TargetKey, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.ports import PushTarget
from certpush.providers.definition import Attachment, BuildContext, PushTargetDefinition, TargetSettings
from certpush.providers.registry import DEFINITIONS, REGISTRY, TargetRegistry
from certpush.settings import Settings
from certpush.wiring import build_targets
from certpush_cli.targets import attach_default_help, attach_help, parse_targets, to_help
from certpush_dev.local.inspection import inspection_of
from tests.fakes import (
    FakeQueue,
    FixedClock,
    InMemoryCertificateStore,
    InMemoryPolicyStore,
    InMemoryRecordsRepository,
    ScriptedTarget,
)
from tests.unit.conftest import CERTIFICATE_ID

pytestmark = pytest.mark.unit

REQUIRED = {"RECORDS_TABLE": "r", "INVENTORY_TABLE": "i", "PUSH_QUEUE_URL": "q", "EVENT_BUS_NAME": "b"}


class EdgeSettings(TargetSettings):
    ENV_PREFIX: ClassVar[str] = "EXAMPLE_EDGE_"

    console_template: str = "https://console.example/edge/{target_id}"
    enabled: bool = False


def _build_edge(settings: EdgeSettings, context: BuildContext) -> PushTarget | None:
    return ScriptedTarget("example", "edge") if settings.enabled else None


EDGE = PushTargetDefinition(
    provider="example",
    service="edge",
    description="a global edge service",
    regions=None,
    settings=EdgeSettings,
    build=_build_edge,
    rules=TargetCertificateRules(),  # takes any key, signature, version and size
    attachment=Attachment(reference="DISTRIBUTION_ID"),
)
WITH_EDGE = TargetRegistry([*DEFINITIONS, EDGE])


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_every_registered_target_is_whole(definition: PushTargetDefinition[TargetSettings]) -> None:
    assert definition.description
    assert definition.is_global or definition.regions, "a regional target lists its regions"
    assert definition.settings.env_prefix().endswith("_")
    assert definition.attachment is not None and definition.attachment.reference
    assert definition.rules.rules, "it declares what it takes (keys, signatures, versions, sizes)"
    assert inspection_of(definition.provider, definition.service), "`certpush-dev stack check` can look at it"


def test_two_modules_for_one_target_are_refused() -> None:
    with pytest.raises(ValueError, match="same provider and service"):
        TargetRegistry([*DEFINITIONS, DEFINITIONS[0]])


def test_settings_of_every_target_are_read_from_its_prefix() -> None:
    settings = Settings.from_env({**REQUIRED, "EXAMPLE_EDGE_ENABLED": "true", "EXAMPLE_EDGE_UNKNOWN": "x"}, WITH_EDGE)

    assert settings.target_settings(EdgeSettings) == EdgeSettings(enabled=True)


def test_wiring_builds_the_targets_that_are_configured() -> None:
    off = build_targets(Settings.from_env(REQUIRED, WITH_EDGE), WITH_EDGE)
    on = build_targets(Settings.from_env({**REQUIRED, "EXAMPLE_EDGE_ENABLED": "1"}, WITH_EDGE), WITH_EDGE)

    assert ("example", "edge") not in off and ("aws", "elb") in off
    assert set(on) - set(off) == {("example", "edge")}


# -- a global target ----------------------------------------------------------------------------------
def test_a_global_target_names_no_region() -> None:
    spec = TargetSpec(provider="example", service="edge")

    assert spec.target_keys() == [TargetKey(provider="example", service="edge", region=GLOBAL_REGION)]
    assert str(spec.target_keys()[0]) == "example:edge:global"


@pytest.fixture
def edge_validator(
    store: InMemoryCertificateStore, records: InMemoryRecordsRepository, queue: FakeQueue, clock: FixedClock
) -> Validator:
    return Validator(
        store=store, policies=InMemoryPolicyStore(), records=records, queue=queue, clock=clock, catalog=WITH_EDGE
    )


@pytest.mark.usefixtures("hosted_certificate")
def test_the_validator_queues_a_global_target(
    edge_validator: Validator, records: InMemoryRecordsRepository, queue: FakeQueue
) -> None:
    detail = CertificateIssuedDetail(
        certificate_id=CERTIFICATE_ID, targets=[TargetSpec(provider="example", service="edge")]
    )

    outcome = edge_validator.validate(detail, "e")

    key = TargetKey(provider="example", service="edge", region="global")
    assert outcome.queued == [key] and outcome.rejected == {}
    assert [m.region for m in queue.messages] == ["global"]
    pending = records.get(CERTIFICATE_ID, 1, key)
    assert pending is not None and pending.status is PushStatus.PENDING


@pytest.mark.usefixtures("hosted_certificate")
@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (TargetSpec(provider="example", service="edge", regions=["us-east-1"]), "example:edge is global"),
        (TargetSpec(provider="aws", service="elb"), "aws:elb is offered per region"),
    ],
    ids=["region-for-a-global-target", "no-region-for-a-regional-target"],
)
def test_regions_must_match_the_kind_of_target(
    edge_validator: Validator, queue: FakeQueue, spec: TargetSpec, says: str
) -> None:
    outcome = edge_validator.validate(CertificateIssuedDetail(certificate_id=CERTIFICATE_ID, targets=[spec]), "e")

    [rejection] = outcome.rejected.values()
    assert rejection.reason is RejectReason.REGION_NOT_OFFERED
    assert says in rejection.message
    assert queue.messages == []


# -- the command line ---------------------------------------------------------------------------------
def test_help_names_every_target_and_its_references() -> None:
    for definition in WITH_EDGE:
        assert definition.name in to_help(WITH_EDGE)
        assert f"{definition.name}: {definition.attachment.reference}" in attach_help(WITH_EDGE)  # type: ignore[union-attr]
    assert "example:edge" not in attach_default_help(WITH_EDGE)
    global_services = to_help(WITH_EDGE).split("A global service is named alone: ")[1]
    assert "example:edge" in global_services and "aws:elb" not in global_services


def test_a_global_target_is_named_alone_on_the_command_line() -> None:
    [spec] = parse_targets(["example:edge"], ["example:edge=E123"], [], WITH_EDGE)

    assert spec.regions == [GLOBAL_REGION]
    assert spec.options.attach == ("E123",)


def test_a_regional_target_needs_regions_and_a_target_without_default_refuses_attach_default() -> None:
    with pytest.raises(typer.BadParameter, match="is not PROVIDER:SERVICE=VALUE"):
        parse_targets(["aws:elb"], [], [], WITH_EDGE)
    with pytest.raises(typer.BadParameter, match="example:edge has nothing to attach-default to"):
        parse_targets(["example:edge"], [], ["example:edge=E123"], WITH_EDGE)


def test_every_provider_package_and_service_module_is_registered() -> None:
    """A provider package left out of ``PROVIDERS``, or a service module (one with a ``DEFINITION``)
    left out of its package's ``DEFINITIONS``, would be code nothing pushes with: found by walking
    ``certpush.providers``, not by reading the lists the registry is built from."""
    import importlib
    import pkgutil

    import certpush.providers

    declared: set[str] = set()
    for package in pkgutil.iter_modules(certpush.providers.__path__):
        if not package.ispkg:
            continue
        provider = importlib.import_module(f"certpush.providers.{package.name}")
        for module in pkgutil.iter_modules(provider.__path__):
            definition = getattr(importlib.import_module(f"{provider.__name__}.{module.name}"), "DEFINITION", None)
            if isinstance(definition, PushTargetDefinition):
                declared.add(definition.name)

    assert {d.name for d in REGISTRY} == declared
    assert declared == {"aws:elb", "aws:cloudfront", "huaweicloud:waf", "huaweicloud:elb", "huaweicloud:cdn"}
