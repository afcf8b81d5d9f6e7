"""Certificate files as people have them: PEM, DER, PKCS#12, fullchain and combined files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certpush.errors import InvalidCertificateError
from certpush.logic.certificate_rules import RULES, RULES_BY_CODE, SECRET_MAX_BYTES, InputRefusal
from certpush.logic.x509_checks import check_material
from certpush_cli.logic.material_files import check_secret_size, material_from_files, material_from_pkcs12, read_file
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from tests.unit.conftest import NOW, material_of

pytestmark = pytest.mark.unit

PASSWORD = "correct horse"


def _der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


def _der_key(pem: str) -> bytes:
    key = serialization.load_pem_private_key(pem.encode(), None)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _p12(sample: SampleCertificate, password: str | None, with_chain: bool = True) -> bytes:
    key = serialization.load_pem_private_key(sample.private_key_pem.encode(), None)
    cert = x509.load_pem_x509_certificate(sample.certificate_pem.encode())
    # the root before the intermediate: PKCS#12 files keep no order
    cas = x509.load_pem_x509_certificates((sample.root_pem + sample.chain_pem).encode()) if with_chain else None
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(1).build(password.encode())
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"x", key, cert, cas, encryption)  # type: ignore[arg-type]


def _refusal(exc_info: pytest.ExceptionInfo[InvalidCertificateError]) -> str:
    return str(exc_info.value.reason)


def test_every_rule_names_what_it_mirrors() -> None:
    assert {str(code) for code in InputRefusal} <= set(RULES_BY_CODE)
    for reason in ("EXPIRED", "NOT_YET_VALID", "KEY_MISMATCH", "CHAIN_INVALID", "INVALID_CERTIFICATE"):
        assert reason in RULES_BY_CODE
    assert all(rule.mirrors and rule.rule for rule in RULES)


def test_pem_files_round_trip(sample: SampleCertificate) -> None:
    material = material_from_files(
        sample.certificate_pem.encode(), sample.private_key_pem.encode(), sample.chain_pem.encode()
    )

    assert material.certificate_pem == sample.certificate_pem
    assert material.chain_pem == sample.chain_pem
    assert material.private_key_pem.get_secret_value() == sample.private_key_pem
    check_material(material, NOW)


def test_text_around_pem_blocks_is_dropped(sample: SampleCertificate) -> None:
    noisy = f"Bag Attributes\n    friendlyName: demo\nsubject=CN=x\n{sample.certificate_pem}\ntrailing words\n"

    material = material_from_files(noisy.encode(), sample.private_key_pem.encode())

    assert material.certificate_pem == sample.certificate_pem


def test_der_certificate_and_der_key_are_read(sample: SampleCertificate) -> None:
    material = material_from_files(
        _der(sample.certificate_pem), _der_key(sample.private_key_pem), _der(sample.chain_pem)
    )

    assert material.certificate_pem == sample.certificate_pem
    assert material.private_key_pem.get_secret_value().startswith(
        "-----BEGIN " + "PRIVATE KEY-----"
    )  # no key header in a committed file
    check_material(material, NOW)


def test_a_certificate_file_with_its_key_is_refused_and_the_key_never_shown(sample: SampleCertificate) -> None:
    combined = (sample.certificate_pem + sample.private_key_pem).encode()

    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(combined, sample.private_key_pem.encode())

    assert _refusal(exc_info) == InputRefusal.PRIVATE_KEY_OUTSIDE_KEY_FILE
    assert "--key" in str(exc_info.value)
    assert "PRIVATE KEY-----" not in str(exc_info.value)


@pytest.mark.parametrize("where", ["chain-pem", "cert-der"])
def test_a_key_anywhere_but_key_is_refused(sample: SampleCertificate, where: str) -> None:
    cert, chain = sample.certificate_pem.encode(), (sample.chain_pem + sample.private_key_pem).encode()
    if where == "cert-der":
        cert, chain = _der_key(sample.private_key_pem), sample.chain_pem.encode()

    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(cert, sample.private_key_pem.encode(), chain)

    assert _refusal(exc_info) == InputRefusal.PRIVATE_KEY_OUTSIDE_KEY_FILE


def test_a_truncated_key_block_in_a_certificate_file_still_counts_as_a_key(sample: SampleCertificate) -> None:
    truncated = sample.certificate_pem + sample.private_key_pem[: len(sample.private_key_pem) // 2]

    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(truncated.encode(), sample.private_key_pem.encode())

    assert _refusal(exc_info) == InputRefusal.PRIVATE_KEY_OUTSIDE_KEY_FILE


def test_a_fullchain_file_is_refused_with_how_to_split_it(sample: SampleCertificate) -> None:
    fullchain = (sample.certificate_pem + sample.chain_pem).encode()

    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(fullchain, sample.private_key_pem.encode())

    assert _refusal(exc_info) == InputRefusal.SEVERAL_CERTIFICATES
    assert "--chain-from-cert" in str(exc_info.value) and "holds 2 certificates" in str(exc_info.value)


def test_chain_from_cert_makes_the_rest_the_chain(sample: SampleCertificate) -> None:
    fullchain = (sample.certificate_pem + sample.chain_pem + sample.root_pem).encode()

    material = material_from_files(fullchain, sample.private_key_pem.encode(), chain_from_cert=True)

    assert material.certificate_pem == sample.certificate_pem
    assert material.chain_pem == sample.chain_pem + sample.root_pem
    check_material(material, NOW)


@pytest.mark.parametrize("password", [PASSWORD, None])
def test_pkcs12_gives_key_certificate_and_ordered_chain(sample: SampleCertificate, password: str | None) -> None:
    material = material_from_pkcs12(_p12(sample, password), password)

    assert material.certificate_pem == sample.certificate_pem
    assert material.chain_pem == sample.chain_pem + sample.root_pem
    check_material(material, NOW)


def test_pkcs12_with_a_wrong_password_says_so(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_pkcs12(_p12(sample, PASSWORD), "wrong")

    assert _refusal(exc_info) == InputRefusal.PKCS12_PASSWORD


def test_a_pkcs12_password_with_a_nul_is_refused_not_a_crash(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_pkcs12(_p12(sample, PASSWORD), "pass\x00word")

    assert _refusal(exc_info) == InputRefusal.PKCS12_PASSWORD


def test_pkcs12_given_as_cert_is_named(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(_p12(sample, PASSWORD), sample.private_key_pem.encode())

    assert _refusal(exc_info) == InputRefusal.UNSUPPORTED_FORMAT
    assert "PKCS#12" in str(exc_info.value) and "--pkcs12" in str(exc_info.value)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "signing request"),
        (b"hello, world\n", "text without a PEM block"),
        (bytes(range(256)), "binary data"),
        (b"\xfe\xed\xfe\xed\x00\x00\x00\x02", "Java KeyStore"),
    ],
)
def test_anything_else_is_named(sample: SampleCertificate, data: bytes, named: str) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(data, sample.private_key_pem.encode())

    assert _refusal(exc_info) == InputRefusal.UNSUPPORTED_FORMAT
    assert named in str(exc_info.value)


def test_an_empty_certificate_file_is_refused(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(b"  \n", sample.private_key_pem.encode())

    assert _refusal(exc_info) == InputRefusal.EMPTY_FILE


def test_an_encrypted_key_is_refused_with_how_to_decrypt_it(sample: SampleCertificate) -> None:
    key = serialization.load_pem_private_key(sample.private_key_pem.encode(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )

    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(sample.certificate_pem.encode(), encrypted)

    assert _refusal(exc_info) == InputRefusal.ENCRYPTED_PRIVATE_KEY
    assert "openssl pkey" in str(exc_info.value)


def test_a_key_file_with_certificates_beside_the_key_is_fine(sample: SampleCertificate) -> None:
    combined = (sample.certificate_pem + sample.private_key_pem).encode()

    material = material_from_files(sample.certificate_pem.encode(), combined)

    assert material.private_key_pem.get_secret_value() == sample.private_key_pem


def test_material_over_the_secret_limit_is_refused(sample: SampleCertificate) -> None:
    chain = sample.chain_pem * (SECRET_MAX_BYTES // len(sample.chain_pem) + 1)

    with pytest.raises(InvalidCertificateError) as exc_info:
        check_secret_size(material_of(sample, chain_pem=chain))

    assert _refusal(exc_info) == InputRefusal.TOO_LARGE
    assert str(SECRET_MAX_BYTES) in str(exc_info.value)


def test_a_certificate_given_as_the_key_is_named_a_certificate(sample: SampleCertificate) -> None:
    with pytest.raises(InvalidCertificateError) as exc_info:
        material_from_files(sample.certificate_pem.encode(), sample.certificate_pem.encode())

    assert _refusal(exc_info) == InputRefusal.NO_PRIVATE_KEY
    assert "this is a certificate, not a private key" in str(exc_info.value)


def test_read_file_never_holds_a_key_in_its_repr(sample: SampleCertificate) -> None:
    contents = read_file((sample.certificate_pem + sample.private_key_pem).encode())

    assert contents.private_keys and "PRIVATE KEY" not in repr(contents)


def test_a_no_san_leaf_from_a_ca_without_key_identifiers_reads_and_checks() -> None:
    plain = make_certificate(
        "plain.example.com", not_before=NOW - timedelta(days=1), key_identifiers=False, subject_alt_name=False
    )
    material = material_from_files(
        plain.certificate_pem.encode(), plain.private_key_pem.encode(), (plain.chain_pem + plain.root_pem).encode()
    )

    facts = check_material(material, NOW)

    assert facts.sans == [] and facts.common_name == "plain.example.com"


@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_a_certificate_of_an_unknown_x509_version_is_named_not_a_crash(
    sample: SampleCertificate, encoding: str
) -> None:
    """cryptography raises InvalidVersion (not a ValueError) for a version field beyond v3: found by
    the property test (tests/unit/test_material_properties.py) with a random example."""
    der = x509.load_pem_x509_certificate(sample.certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
    v3 = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2: the version of an X.509 v3 certificate
    assert der.count(v3) == 1
    broken = der.replace(v3, bytes.fromhex("a003020105"))  # "v6"
    if encoding == "pem":
        import base64

        body = base64.encodebytes(broken).decode()
        data = f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()
    else:
        data = broken
    contents = read_file(data)
    assert contents.certificates == []
    assert contents.other and "X.509" in contents.other[0]
