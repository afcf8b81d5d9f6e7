"""Push policies: which targets a certificate goes to when its issuance event names none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from certpush.logic.policies import merge_targets, policy_matches, targets_from_policies
from certpush.models.domain import CertificateVersion, PushPolicy, TargetOptions, TargetSpec

pytestmark = pytest.mark.unit

WHEN = datetime(2026, 11, 27, tzinfo=UTC)


def certificate(common_name: str, *sans: str) -> CertificateVersion:
    return CertificateVersion(
        certificate_id="c",
        version=1,
        common_name=common_name,
        sans=list(sans or [common_name]),
        fingerprint_sha256="00",
        serial_number="1",
        issuer="CN=ca",
        not_before=WHEN,
        not_after=WHEN,
        key_type="EC_secp256r1",
        secret_id="s",
        imported_at=WHEN,
    )


def spec(provider: str, service: str, *regions: str, attach: tuple[str, ...] = ()) -> TargetSpec:
    return TargetSpec(provider=provider, service=service, regions=list(regions), options=TargetOptions(attach=attach))


def policy(pattern: str, *targets: TargetSpec, name: str = "p", enabled: bool = True) -> PushPolicy:
    return PushPolicy(
        name=name, pattern=pattern, targets=list(targets) or [spec("aws", "elb", "us-east-1")], enabled=enabled
    )


@pytest.mark.parametrize(
    ("pattern", "names", "matches"),
    [
        ("*.example.com", ["www.example.com"], True),
        ("*.example.com", ["*.example.com"], True),
        ("*.example.com", ["example.com"], False),
        ("*.example.com", ["www.example.org"], False),
        ("*.EXAMPLE.com", ["WWW.example.COM"], True),
        ("api.example.com", ["www.example.com", "api.example.com"], True),
        ("shop-??.example.com", ["shop-eu.example.com"], True),
        ("shop-??.example.com", ["shop-eur.example.com"], False),
        ("*", ["anything.example"], True),
    ],
)
def test_policy_matches_the_common_name_or_any_san(pattern: str, names: list[str], matches: bool) -> None:
    assert policy_matches(policy(pattern), certificate(names[0], *names)) is matches


def test_policy_matches_a_san_that_is_not_the_common_name() -> None:
    assert policy_matches(
        policy("api.example.com"), certificate("www.example.com", "www.example.com", "api.example.com")
    )


def test_targets_from_policies_unite_the_matching_enabled_policies() -> None:
    policies = [
        policy("*.example.com", spec("aws", "elb", "us-east-1", attach=("l1",)), name="a"),
        policy(
            "www.example.com",
            spec("aws", "elb", "eu-west-1", "us-east-1", attach=("l2",)),
            spec("huaweicloud", "waf", "ap-southeast-1"),
            name="b",
        ),
        policy("*.example.org", spec("aws", "elb", "sa-east-1"), name="c"),
        policy("*.example.com", spec("huaweicloud", "elb", "cn-north-4"), name="d", enabled=False),
    ]

    targets = targets_from_policies(policies, certificate("www.example.com"))

    assert targets == [
        spec("aws", "elb", "us-east-1", "eu-west-1", attach=("l1", "l2")),
        spec("huaweicloud", "waf", "ap-southeast-1"),
    ]


def test_no_matching_policy_means_no_targets() -> None:
    assert targets_from_policies([policy("*.example.org")], certificate("www.example.com")) == []
    assert targets_from_policies([], certificate("www.example.com")) == []


def test_merge_does_not_change_its_input() -> None:
    first = spec("aws", "elb", "us-east-1", attach=("l1",))

    merge_targets([first, spec("aws", "elb", "eu-west-1", attach=("l2",))])

    assert first == spec("aws", "elb", "us-east-1", attach=("l1",))


@pytest.mark.parametrize(
    "data",
    [
        {
            "name": "Bad Name",
            "pattern": "*",
            "targets": [{"provider": "aws", "service": "elb", "regions": ["us-east-1"]}],
        },
        {"name": "p", "pattern": "", "targets": [{"provider": "aws", "service": "elb", "regions": ["us-east-1"]}]},
        {"name": "p", "pattern": "*", "targets": []},
        {"name": "p", "pattern": "*", "targets": [{"provider": "aws", "service": "elb", "regions": []}]},
    ],
    ids=["name", "empty-pattern", "no-targets", "no-regions"],
)
def test_invalid_policies_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PushPolicy.model_validate(data)


providers = st.sampled_from([("aws", "elb"), ("huaweicloud", "waf"), ("huaweicloud", "elb")])
regions = st.lists(st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-1", "cn-north-4"]), min_size=1, max_size=5)
attachments = st.lists(st.sampled_from(["l1", "l2", "l3"]), max_size=3).map(tuple)
specs = st.builds(
    lambda ps, rs, at: TargetSpec(provider=ps[0], service=ps[1], regions=rs, options=TargetOptions(attach=at)),
    providers,
    regions,
    attachments,
)


@given(st.lists(specs, max_size=8))
def test_merge_keeps_one_spec_per_service_with_every_region_once_in_first_seen_order(
    given_specs: list[TargetSpec],
) -> None:
    merged = merge_targets(given_specs)

    keys = [(s.provider, s.service) for s in merged]
    assert keys == list(dict.fromkeys((s.provider, s.service) for s in given_specs))
    for result in merged:
        mine = [s for s in given_specs if (s.provider, s.service) == (result.provider, result.service)]
        assert result.regions == list(dict.fromkeys(r for s in mine for r in s.regions))
        assert result.options.attach == tuple(dict.fromkeys(a for s in mine for a in s.options.attach))
