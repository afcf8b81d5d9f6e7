"""certpush push --to / --attach / --attach-default: parsed into target specs, with clear errors."""

from __future__ import annotations

import pytest
import typer

from certpush.models.domain import TargetOptions, TargetSpec
from certpush_cli.targets import parse_targets

pytestmark = pytest.mark.unit

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2"


def test_to_names_services_and_regions() -> None:
    targets = parse_targets(["aws:elb=us-east-1,eu-west-1", "huaweicloud:waf=ap-southeast-1"], [], [])

    assert targets == [
        TargetSpec(provider="aws", service="elb", regions=["us-east-1", "eu-west-1"]),
        TargetSpec(provider="huaweicloud", service="waf", regions=["ap-southeast-1"]),
    ]


def test_the_same_service_twice_is_merged_and_spaces_are_dropped() -> None:
    targets = parse_targets(["aws:elb=us-east-1, eu-west-1", " aws:elb=eu-west-1,sa-east-1,"], [], [])

    assert targets == [TargetSpec(provider="aws", service="elb", regions=["us-east-1", "eu-west-1", "sa-east-1"])]


def test_attach_and_attach_default_go_to_their_service() -> None:
    targets = parse_targets(
        ["aws:elb=us-east-1", "huaweicloud:waf=ap-southeast-1"],
        [f"aws:elb={LISTENER}", "huaweicloud:waf=ap-southeast-1/host-1", "huaweicloud:waf=ap-southeast-1/host-2"],
        [f"aws:elb={LISTENER}"],
    )

    aws, waf = targets
    assert aws.options == TargetOptions(attach=(LISTENER,), attach_default=(LISTENER,))
    assert waf.options == TargetOptions(attach=("ap-southeast-1/host-1", "ap-southeast-1/host-2"))


def test_no_targets_is_an_empty_list() -> None:
    assert parse_targets([], [], []) == []


@pytest.mark.parametrize(
    ("to", "attach", "attach_default", "option", "says"),
    [
        (["aws-elb-us-east-1"], [], [], "--to", "is not PROVIDER:SERVICE=VALUE"),
        (["aws:elb"], [], [], "--to", "is not PROVIDER:SERVICE=VALUE"),
        (["AWS:elb=us-east-1"], [], [], "--to", "is not PROVIDER:SERVICE=VALUE"),
        (["aws:elb="], [], [], "--to", "is not PROVIDER:SERVICE=VALUE"),
        (["aws:elb=,"], [], [], "--to", "names no region"),
        (["aws:elb=us-east-1"], ["huaweicloud:waf=ap-southeast-1/host-1"], [], "--attach", "not among the --to"),
        (["aws:elb=us-east-1"], [], ["huaweicloud:elb=ap-southeast-1/l-1"], "--attach-default", "not among the --to"),
        (["aws:elb=us-east-1"], ["listener-without-service"], [], "--attach", "is not PROVIDER:SERVICE=VALUE"),
    ],
    ids=[
        "no-colon",
        "no-regions",
        "upper-case",
        "empty-value",
        "only-commas",
        "attach-elsewhere",
        "attach-default-elsewhere",
        "attach-syntax",
    ],
)
def test_bad_values_are_refused_with_the_option_named(
    to: list[str], attach: list[str], attach_default: list[str], option: str, says: str
) -> None:
    with pytest.raises(typer.BadParameter) as exc_info:
        parse_targets(to, attach, attach_default)

    assert exc_info.value.param_hint == option
    assert says in exc_info.value.message


@pytest.mark.parametrize(
    ("to", "says"),
    [
        (["aws:elb=us-east1"], "aws:elb is not offered in region 'us-east1'; did you mean 'us-east-1'"),
        (["azure:appgw=westeurope"], "unknown provider 'azure' (known: aws, huaweicloud)"),
        (["huaweicloud:wafs=cn-north-4"], "did you mean 'huaweicloud:waf'?"),
        (["aws:cloudfront=us-east-1"], "aws:cloudfront is global: name no region"),
        (
            [
                "aws:elb=us-east-1",
                "aws:elb=" + ",".join(f"eu-west-{i}" for i in range(1, 4)) + ",eu-central-1,"
                "eu-central-2,eu-north-1,eu-south-1,eu-south-2,sa-east-1,ca-central-1",
            ],
            "11 regions for aws:elb",
        ),
    ],
    ids=["region-typo", "unknown-provider", "service-typo", "global-with-region", "too-many-after-merge"],
)
def test_targets_the_registry_does_not_know_are_usage_errors_with_a_hint(to: list[str], says: str) -> None:
    with pytest.raises(typer.BadParameter) as exc_info:
        parse_targets(to, [], [])

    assert exc_info.value.param_hint == "--to"
    assert says in exc_info.value.message


def test_ten_regions_are_fine() -> None:
    regions = "us-east-1,us-east-2,us-west-1,us-west-2,eu-west-1,eu-west-2,eu-west-3,eu-north-1,sa-east-1,ca-central-1"

    assert len(parse_targets([f"aws:elb={regions}"], [], [])[0].regions) == 10
