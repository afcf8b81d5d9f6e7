"""Property tests of the front door: files made of real pieces (PEM and DER certificates and keys,
PKCS#12, junk) in any mix and any damage, through reading and import. Whatever the input: no
unhandled exception, every refusal carries a reason code, and no key ever lands where a
certificate goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certpush.errors import InvalidCertificateError
from certpush.logic.certificate_rules import InputRefusal
from certpush.models.domain import RejectReason
from certpush.providers.registry import REGISTRY
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.logic.material_files import material_from_files, material_from_pkcs12
from certpush_cli.sample_certificates import make_certificate, other_private_key
from tests.fakes import FixedClock, InMemoryCertificateStore
from tests.unit.conftest import NOW

REASONS = {str(r) for r in InputRefusal} | {str(r) for r in RejectReason}
pytestmark = [pytest.mark.unit, pytest.mark.filterwarnings("ignore:PKCS#12 bundle could not be parsed as DER")]
EXAMPLES = settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
KEY_MARK = "PRIVATE KEY"

_SAMPLE = make_certificate("prop.example.com", not_before=NOW - timedelta(days=1))
_PLAIN = make_certificate("plain.example.com", not_before=NOW - timedelta(days=1), key_identifiers=False)
_OLD = make_certificate("old.example.com", days=10, not_before=NOW - timedelta(days=40))


def _der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


def _der_key(pem: str) -> bytes:
    key = serialization.load_pem_private_key(pem.encode(), None)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _p12(password: bytes | None) -> bytes:
    key = serialization.load_pem_private_key(_SAMPLE.private_key_pem.encode(), None)
    cert = x509.load_pem_x509_certificate(_SAMPLE.certificate_pem.encode())
    cas = x509.load_pem_x509_certificates((_SAMPLE.chain_pem + _SAMPLE.root_pem).encode())
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(1).build(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"p", key, cert, cas, encryption)  # type: ignore[arg-type]


CERT_PIECES = [
    _SAMPLE.certificate_pem.encode(), _SAMPLE.chain_pem.encode(), _SAMPLE.root_pem.encode(),
    _PLAIN.certificate_pem.encode(), _PLAIN.chain_pem.encode(), _OLD.certificate_pem.encode(),
    _der(_SAMPLE.certificate_pem), _der(_SAMPLE.chain_pem),
]  # fmt: skip
KEY_PIECES = [
    _SAMPLE.private_key_pem.encode(), _PLAIN.private_key_pem.encode(), other_private_key().encode(),
    _der_key(_SAMPLE.private_key_pem),
]  # fmt: skip
JUNK_PIECES = [
    _p12(b"pw"), _p12(None), b"", b"\n", b"hello\n", b"\x00\xff\x30\x82",
    b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    b"-----BEGIN " + b"PRIVATE KEY-----\nbm9wZQ==\n",
]  # fmt: skip
ALL_PIECES = CERT_PIECES + KEY_PIECES + JUNK_PIECES


@st.composite
def damaged(draw: st.DrawFn, piece: bytes) -> bytes:
    how = draw(st.sampled_from(["as-is", "as-is", "truncate", "flip", "prefix"]))
    if how == "truncate" and piece:
        return piece[: draw(st.integers(0, len(piece)))]
    if how == "flip" and piece:
        at = draw(st.integers(0, len(piece) - 1))
        return piece[:at] + bytes([piece[at] ^ draw(st.integers(1, 255))]) + piece[at + 1 :]
    if how == "prefix":
        return draw(st.binary(max_size=16)) + piece
    return piece


@st.composite
def files(draw: st.DrawFn, pieces: list[bytes] = ALL_PIECES) -> bytes:
    chosen = draw(st.lists(st.sampled_from(pieces), min_size=0, max_size=4))
    parts = [draw(damaged(p)) for p in chosen]
    if draw(st.booleans()):
        parts.append(draw(st.binary(max_size=64)))
    return b"".join(parts)


def _planted_key(data: bytes) -> bool:
    """An intact PEM key, or a file that is nothing but a DER key."""
    return any(k in data for k in KEY_PIECES if k.startswith(b"-----")) or data in KEY_PIECES


@EXAMPLES
@given(cert=files(), key=files(), chain=st.none() | files(), chain_from_cert=st.booleans())
def test_any_mix_of_files_is_read_or_refused_with_a_reason(
    cert: bytes, key: bytes, chain: bytes | None, chain_from_cert: bool
) -> None:
    try:
        material = material_from_files(cert, key, chain, chain_from_cert)
    except InvalidCertificateError as exc:
        assert exc.reason in REASONS
        assert "-----" not in str(exc)  # a message names what it found, never quotes it
        if _planted_key(cert):
            assert exc.reason == InputRefusal.PRIVATE_KEY_OUTSIDE_KEY_FILE
        return
    assert not _planted_key(cert) and not _planted_key(chain or b"")
    assert KEY_MARK not in material.certificate_pem + material.chain_pem
    assert KEY_MARK in material.private_key_pem.get_secret_value()
    # whatever was read goes through the import checks without an unexpected exception
    store = InMemoryCertificateStore()
    try:
        result = import_certificate(store, FixedClock(NOW), material, "prop", catalog=REGISTRY)
    except InvalidCertificateError as exc:
        assert exc.reason in REASONS
        assert store.versions == {}
        return
    assert all(w.split(":", 1)[0] in REASONS | {"NO_SAN", "NO_CHAIN", "TARGET_SIZE"} for w in result.warnings)


@EXAMPLES
@given(
    data=files([_p12(b"pw"), _p12(None), *CERT_PIECES[:2], *KEY_PIECES[:1]]), password=st.none() | st.text(max_size=8)
)
def test_any_pkcs12_input_is_read_or_refused_with_a_reason(data: bytes, password: str | None) -> None:
    try:
        material = material_from_pkcs12(data, password)
    except InvalidCertificateError as exc:
        assert exc.reason in REASONS
        return
    assert KEY_MARK not in material.certificate_pem + material.chain_pem
