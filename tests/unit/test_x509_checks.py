"""x509_checks: the material checks a push needs, on certificates made at run time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from certpush.errors import InvalidCertificateError
from certpush.logic.x509_checks import check_chain, check_material, inspect_certificate, load_certificate, load_chain
from certpush.models.domain import CertificateMaterial, RejectReason
from certpush_cli.sample_certificates import SampleCertificate, make_certificate, other_private_key
from tests.unit.conftest import NOW, SANS, material_of

pytestmark = pytest.mark.unit

# a PEM header around junk, built at run time so no file looks like it holds a key
JUNK_KEY = "-----BEGIN " + "PRIVATE KEY-----\nnope\n"


def _reason(exc_info: pytest.ExceptionInfo[InvalidCertificateError]) -> RejectReason:
    return RejectReason(exc_info.value.reason)


def test_leaf_with_intermediate_passes(sample: SampleCertificate) -> None:
    facts = check_material(material_of(sample), NOW)

    assert facts.common_name == "www.example.com"


def test_leaf_intermediate_and_self_signed_root_verify_as_a_path(sample: SampleCertificate) -> None:
    chain = sample.chain_pem + sample.root_pem

    facts = check_material(material_of(sample, chain_pem=chain), NOW)

    assert facts.sans == SANS


def test_wildcard_certificate_with_root_verifies() -> None:
    wildcard = make_certificate("*.example.com", sans=["*.example.com"], not_before=NOW - timedelta(days=1))

    facts = check_material(material_of(wildcard, chain_pem=wildcard.chain_pem + wildcard.root_pem), NOW)

    assert facts.common_name == "*.example.com"


def test_leaf_without_chain_passes(sample: SampleCertificate) -> None:
    check_material(material_of(sample, chain_pem=""), NOW)


def test_private_key_of_another_certificate_is_a_key_mismatch(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(sample, private_key_pem=other_private_key()), NOW)

    assert _reason(exc_info) is RejectReason.KEY_MISMATCH
    assert "does not belong" in str(exc_info.value)


def test_unreadable_private_key_is_a_key_mismatch(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(sample, private_key_pem=JUNK_KEY), NOW)

    assert _reason(exc_info) is RejectReason.KEY_MISMATCH


def test_chain_link_not_issued_by_the_next_certificate_is_invalid(sample: SampleCertificate) -> None:
    stranger = make_certificate("other.example.com", not_before=NOW - timedelta(days=1))

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(sample, chain_pem=stranger.chain_pem), NOW)

    assert _reason(exc_info) is RejectReason.CHAIN_INVALID
    assert "is not issued by the next chain certificate" in str(exc_info.value)


def test_chain_in_the_wrong_order_is_invalid(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(sample, chain_pem=sample.root_pem + sample.chain_pem), NOW)

    assert _reason(exc_info) is RejectReason.CHAIN_INVALID


def test_chain_that_is_not_pem_is_invalid(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(sample, chain_pem="not a chain"), NOW)

    assert _reason(exc_info) is RejectReason.CHAIN_INVALID


def test_chain_certificate_outside_its_validity_is_invalid(sample: SampleCertificate) -> None:
    leaf = load_certificate(sample.certificate_pem)
    chain = load_chain(sample.chain_pem)

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_chain(leaf, chain, NOW + timedelta(days=5000))

    assert _reason(exc_info) is RejectReason.CHAIN_INVALID
    assert "outside its validity period" in str(exc_info.value)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _chain_through_a_non_ca(now: datetime) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """Every link is signed by the next, but the middle certificate is no CA: only a path
    verification to the root can tell."""
    root_key, middle_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    start, end = now - timedelta(days=1), now + timedelta(days=30)

    def build(subject: str, issuer: str, key, signer, ca: bool, san: str | None = None) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(_name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if signer is not key:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    root = build("root", "root", root_key, root_key, ca=True)
    middle = build("middle", "root", middle_key, root_key, ca=False)
    leaf = build("leaf.example.com", "middle", leaf_key, middle_key, ca=False, san="leaf.example.com")
    return leaf, [middle, root]


@pytest.mark.parametrize("with_root", [False, True])
def test_chain_through_a_non_ca_is_invalid_with_or_without_its_root(with_root: bool) -> None:
    leaf, chain = _chain_through_a_non_ca(NOW)

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_chain(leaf, chain if with_root else chain[:-1], NOW)

    assert _reason(exc_info) is RejectReason.CHAIN_INVALID
    assert "'CN=middle' is not a CA certificate" in str(exc_info.value)


def test_expired_certificate() -> None:
    old = make_certificate("old.example.com", days=30, not_before=NOW - timedelta(days=100))

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(old), NOW)

    assert _reason(exc_info) is RejectReason.EXPIRED
    assert "expired on" in str(exc_info.value)


def test_certificate_not_yet_valid() -> None:
    future = make_certificate("future.example.com", days=30, not_before=NOW + timedelta(days=5))

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(future), NOW)

    assert _reason(exc_info) is RejectReason.NOT_YET_VALID
    assert "not valid before" in str(exc_info.value)


def test_dates_are_reported_before_a_key_mismatch_and_a_broken_chain() -> None:
    old = make_certificate("old.example.com", days=30, not_before=NOW - timedelta(days=100))
    stranger = make_certificate("other.example.com", not_before=NOW - timedelta(days=1))

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(old, private_key_pem=other_private_key(), chain_pem=stranger.chain_pem), NOW)

    assert _reason(exc_info) is RejectReason.EXPIRED


def test_key_mismatch_is_reported_before_a_broken_chain(sample: SampleCertificate) -> None:
    stranger = make_certificate("other.example.com", not_before=NOW - timedelta(days=1))

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(sample, private_key_pem=other_private_key(), chain_pem=stranger.chain_pem), NOW)

    assert _reason(exc_info) is RejectReason.KEY_MISMATCH


@pytest.mark.parametrize("with_root", [False, True])
def test_chain_from_a_ca_without_key_identifiers_passes(with_root: bool) -> None:
    plain = make_certificate("plain.example.com", not_before=NOW - timedelta(days=1), key_identifiers=False)
    leaf = load_certificate(plain.certificate_pem)
    assert not any(isinstance(e.value, x509.AuthorityKeyIdentifier) for e in leaf.extensions)

    facts = check_material(material_of(plain, chain_pem=plain.chain_pem + (plain.root_pem if with_root else "")), NOW)

    assert facts.common_name == "plain.example.com"


@pytest.mark.parametrize("days_from_now", [-200, 50])
def test_an_expired_or_future_leaf_is_a_date_problem_whatever_the_chain_holds(days_from_now: int) -> None:
    dated = make_certificate("dated.example.com", days=30, not_before=NOW + timedelta(days=days_from_now))

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_material(material_of(dated, chain_pem=dated.chain_pem + dated.root_pem), NOW)

    assert _reason(exc_info) is (RejectReason.EXPIRED if days_from_now < 0 else RejectReason.NOT_YET_VALID)


def test_chain_in_the_wrong_order_names_the_link(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        check_chain(load_certificate(sample.certificate_pem), load_chain(sample.root_pem + sample.chain_pem), NOW)

    assert _reason(exc_info) is RejectReason.CHAIN_INVALID
    assert "the chain goes in order" in str(exc_info.value)


@pytest.mark.parametrize(
    "pem",
    ["", "garbage", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"],
)
def test_garbage_pem_is_an_invalid_certificate(pem: str) -> None:
    material = CertificateMaterial(certificate_pem=pem, private_key_pem=SecretStr(other_private_key()))

    with pytest.raises(InvalidCertificateError) as in_check:
        check_material(material, NOW)
    with pytest.raises(InvalidCertificateError) as in_inspect:
        inspect_certificate(pem)

    assert _reason(in_check) is RejectReason.INVALID_CERTIFICATE
    assert _reason(in_inspect) is RejectReason.INVALID_CERTIFICATE


def test_inspect_certificate_reports_the_facts(sample: SampleCertificate) -> None:
    cert = x509.load_pem_x509_certificate(sample.certificate_pem.encode())

    facts = inspect_certificate(sample.certificate_pem)

    assert facts.common_name == "www.example.com"
    assert facts.sans == SANS
    assert facts.fingerprint_sha256 == hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert facts.serial_number == format(cert.serial_number, "x")
    assert int(facts.serial_number, 16) == cert.serial_number
    assert "CN=certpush sample issuing CA" in facts.issuer
    assert facts.not_before == NOW - timedelta(days=10)
    assert facts.not_after == NOW + timedelta(days=80)
    assert facts.not_before.tzinfo is not None
    assert facts.key_type == "EC_secp256r1"


def test_inspect_rsa_certificate_key_type() -> None:
    rsa_sample = make_certificate("rsa.example.com", key_type="rsa", not_before=NOW)

    assert inspect_certificate(rsa_sample.certificate_pem).key_type == "RSA_2048"


def test_certificate_without_san_has_no_sans_but_its_common_name() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("legacy.example.com"))
        .issuer_name(_name("legacy.example.com"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2027, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )

    facts = inspect_certificate(cert.public_bytes(serialization.Encoding.PEM).decode())

    assert facts.sans == []
    assert facts.common_name == "legacy.example.com"
    assert facts.serial_number == "1"
