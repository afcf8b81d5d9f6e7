"""The rules table drives behaviour: what the import refuses, warns about and lets --force store,
and what the validator rejects, are read from ``certificate_rules`` (the generic rules) and from
each target's ``TargetCertificateRules``; these tests go over the tables, so a row that changes
changes what they expect. What the documentation says each target takes is checked on its own
(``test_documented_*``), so a table that drifts from the documentation fails too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from certpush.errors import InvalidCertificateError
from certpush.logic.certificate_rules import (
    RULES,
    RULES_BY_CODE,
    SECRET_MAX_BYTES,
    KeyTypes,
    Measured,
    Outcome,
    SizeLimit,
    Source,
    TargetCertificateRules,
)
from certpush.logic.validation import Validator
from certpush.logic.x509_checks import material_shape
from certpush.models.domain import CertificateMaterial, PushStatus, RejectReason, TargetKey, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.providers.registry import REGISTRY
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.logic.material_files import secret_size
from certpush_cli.sample_certificates import make_certificate
from tests.certificate_shapes import SHAPES, material, sha1_signed, shape
from tests.fakes import FakeQueue, FixedClock, InMemoryCertificateStore, InMemoryPolicyStore, InMemoryRecordsRepository

pytestmark = pytest.mark.unit

TARGETS = [definition.name for definition in REGISTRY]
REGIONS = {"aws:elb": "us-east-1", "huaweicloud:waf": "cn-north-4", "huaweicloud:elb": "cn-north-4"}


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def store() -> InMemoryCertificateStore:
    return InMemoryCertificateStore()


@pytest.fixture
def records() -> InMemoryRecordsRepository:
    return InMemoryRecordsRepository()


@pytest.fixture
def validate(
    store: InMemoryCertificateStore, records: InMemoryRecordsRepository, now: datetime
) -> Callable[[str, str], tuple[PushStatus, str | None, str | None]]:
    """Pushes a stored certificate to one target: (status, reason, message) of its record."""
    validator = Validator(
        store=store,
        policies=InMemoryPolicyStore(),
        records=records,
        queue=FakeQueue(),
        clock=FixedClock(now),
        catalog=REGISTRY,
    )

    def run(certificate_id: str, target: str) -> tuple[PushStatus, str | None, str | None]:
        provider, service = target.split(":")
        region = REGIONS.get(target, "global")
        spec = TargetSpec(provider=provider, service=service, regions=[region])
        validator.validate(CertificateIssuedDetail(certificate_id=certificate_id, targets=[spec]), f"e-{target}")
        record = records.get(certificate_id, 1, TargetKey(provider=provider, service=service, region=region))
        assert record is not None
        return record.status, record.reason, record.message

    return run


def _import(store: InMemoryCertificateStore, now: datetime, stored: CertificateMaterial, force: bool = False):
    return import_certificate(store, FixedClock(now), stored, certificate_id="c", force=force, catalog=REGISTRY)


# -- the generic rules: one shape that breaks each rule the import and the validator check ------------
def _breaking(code: str, now: datetime) -> CertificateMaterial:
    if code == RejectReason.EXPIRED:
        return material(make_certificate("old.example.com", days=30, not_before=now - timedelta(days=60)))
    if code == RejectReason.NOT_YET_VALID:
        return material(make_certificate("soon.example.com", not_before=now + timedelta(days=3)))
    if code == RejectReason.KEY_MISMATCH:
        return material(make_certificate("k.example.com")).model_copy(
            update={"private_key_pem": material(make_certificate("k.example.com")).private_key_pem}
        )
    if code == RejectReason.CHAIN_INVALID:
        return material(make_certificate("c.example.com")).model_copy(
            update={"chain_pem": make_certificate("other.example.com").chain_pem}
        )
    raise AssertionError(f"no shape breaks {code}")


CHECKED = [
    rule
    for rule in RULES
    if rule.code
    in {RejectReason.EXPIRED, RejectReason.NOT_YET_VALID, RejectReason.KEY_MISMATCH, RejectReason.CHAIN_INVALID}
]


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: str(r.code))
def test_the_import_does_what_the_table_says(rule, store, now) -> None:
    broken = _breaking(rule.code, now)

    if rule.at_import is Outcome.REFUSE:
        with pytest.raises(InvalidCertificateError) as refused:
            _import(store, now, broken)
        assert refused.value.reason == rule.code
        assert store.list_versions("c") == []
        if rule.forceable:
            assert f"{rule.code}: " in " ".join(_import(store, now, broken, force=True).warnings)
        else:
            with pytest.raises(InvalidCertificateError):
                _import(store, now, broken, force=True)
    else:
        result = _import(store, now, broken)
        assert any(w.startswith(f"{rule.code}: ") for w in result.warnings)


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: str(r.code))
def test_the_validator_does_what_the_table_says(rule, store, now, validate) -> None:
    _import(store, now, _breaking(rule.code, now), force=True)

    status, reason, _ = validate("c", "aws:elb")

    assert rule.before_push is Outcome.REJECT
    assert (status, reason) == (PushStatus.REJECTED, rule.code)


# -- each target's own rules -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("target", TARGETS)
def test_a_target_rule_warns_at_import_and_rejects_the_push(target, name, store, now, validate) -> None:
    stored = material(shape(name))
    rules = REGISTRY.find(*target.split(":")).rules
    broken = rules.violations(material_shape(stored))

    if secret_size(stored) > SECRET_MAX_BYTES:
        with pytest.raises(InvalidCertificateError, match="Secrets Manager"):  # never stored, never pushed
            _import(store, now, stored)
        return
    warnings = _import(store, now, stored).warnings
    status, reason, message = validate("c", target)

    about_target = [w for w in warnings if f": {target} takes " in w]
    assert [w.split(":", 1)[0] for w in about_target] == [str(v.code) for v in broken]
    if broken:
        assert (status, reason) == (PushStatus.REJECTED, broken[0].code)
        assert message is not None and message.startswith(f"{target} takes ") and broken[0].source.title in message
        assert RULES_BY_CODE[reason].at_import is Outcome.WARN and RULES_BY_CODE[reason].before_push is Outcome.REJECT
    else:
        assert status is PushStatus.PENDING


# what each target's documentation says, independently of the tables (issue 19's findings)
DOCUMENTED = {
    ("ed25519", "aws:elb"): RejectReason.KEY_ALGORITHM_NOT_SUPPORTED,
    ("ed25519", "aws:cloudfront"): RejectReason.KEY_ALGORITHM_NOT_SUPPORTED,
    ("ed25519", "huaweicloud:waf"): RejectReason.KEY_ALGORITHM_NOT_SUPPORTED,
    ("ed25519", "huaweicloud:elb"): RejectReason.KEY_ALGORITHM_NOT_SUPPORTED,
    ("ed25519", "huaweicloud:cdn"): RejectReason.KEY_ALGORITHM_NOT_SUPPORTED,
    ("ec-p384", "aws:cloudfront"): RejectReason.KEY_SIZE_NOT_SUPPORTED,
    ("ec-p521", "aws:cloudfront"): RejectReason.KEY_SIZE_NOT_SUPPORTED,
    ("rsa-4160", "aws:elb"): RejectReason.KEY_SIZE_NOT_SUPPORTED,
    ("rsa-4160", "aws:cloudfront"): RejectReason.KEY_SIZE_NOT_SUPPORTED,
    ("x509-v1", "aws:elb"): RejectReason.CERTIFICATE_VERSION_NOT_SUPPORTED,
    ("x509-v1", "aws:cloudfront"): RejectReason.CERTIFICATE_VERSION_NOT_SUPPORTED,
    ("rsa-signed-by-ed25519", "aws:elb"): RejectReason.SIGNATURE_ALGORITHM_NOT_SUPPORTED,
    ("rsa-signed-by-ed25519", "aws:cloudfront"): RejectReason.SIGNATURE_ALGORITHM_NOT_SUPPORTED,
    ("certificate-over-32k", "aws:elb"): RejectReason.CERTIFICATE_TOO_LARGE,
    ("certificate-over-32k", "aws:cloudfront"): RejectReason.CERTIFICATE_TOO_LARGE,
    ("key-text-over-8k", "aws:elb"): RejectReason.PRIVATE_KEY_TOO_LARGE,
    ("key-text-over-8k", "aws:cloudfront"): RejectReason.PRIVATE_KEY_TOO_LARGE,
    ("key-text-over-8k", "huaweicloud:elb"): RejectReason.PRIVATE_KEY_TOO_LARGE,
    ("certificate-over-64k", "aws:elb"): RejectReason.CERTIFICATE_TOO_LARGE,
    ("certificate-over-64k", "aws:cloudfront"): RejectReason.CERTIFICATE_TOO_LARGE,
    ("certificate-over-64k", "huaweicloud:elb"): RejectReason.CERTIFICATE_TOO_LARGE,
}


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("target", TARGETS)
def test_documented_refusals(target, name) -> None:
    violation = REGISTRY.find(*target.split(":")).rules.first_violation(material_shape(material(shape(name))))

    assert (violation.code if violation else None) == DOCUMENTED.get((name, target))


def test_every_rule_of_every_target_names_its_page_and_is_broken_by_a_shape() -> None:
    shapes = [material_shape(material(shape(name))) for name in SHAPES]
    for definition in REGISTRY:
        for rule in definition.rules.rules:
            assert rule.source.url.startswith("https://") and rule.source.title
            assert any(rule.check(s) for s in shapes), f"no shape breaks {definition.name}'s {rule}"
        assert definition.rules.codes <= set(RULES_BY_CODE)


def test_a_message_says_what_the_target_takes_and_what_was_found() -> None:
    violation = REGISTRY.find("aws", "cloudfront").rules.first_violation(material_shape(material(shape("ec-p384"))))

    assert violation is not None
    assert violation.message("aws:cloudfront") == (
        "aws:cloudfront takes RSA 1024/2048/3072/4096 or EC P-256 keys; this certificate's key is EC P-384 "
        "(CloudFront Developer Guide, Requirements for using SSL/TLS certificates with CloudFront)"
    )


def test_rules_of_a_made_up_target_apply_as_declared() -> None:
    source = Source("a page", "https://example.com/page")
    rules = TargetCertificateRules(
        (KeyTypes({"EC": frozenset({"P-256"})}, source), SizeLimit(Measured.PRIVATE_KEY, 100, source))
    )

    ec = material_shape(material(shape("ec-p256")))
    rsa = material_shape(material(shape("rsa-2048")))

    assert [v.code for v in rules.violations(ec)] == [RejectReason.PRIVATE_KEY_TOO_LARGE]
    assert [v.code for v in rules.violations(rsa)] == [
        RejectReason.KEY_ALGORITHM_NOT_SUPPORTED,
        RejectReason.PRIVATE_KEY_TOO_LARGE,
    ]


# -- what the generic checks say ------------------------------------------------------------------
def test_a_sha1_signed_leaf_is_named_for_its_algorithm_not_a_bad_signature(store, now) -> None:
    with pytest.raises(InvalidCertificateError) as refused:
        _import(store, now, material(sha1_signed()))

    assert refused.value.reason == RejectReason.CHAIN_INVALID
    assert "signature algorithm sha1 is not accepted (cryptography refuses it)" in str(refused.value)
    assert "does not verify" not in str(refused.value)
