"""Certificates of the shapes targets differ on, made at run time (no key is ever committed): key
algorithms and sizes, an X.509 v1 leaf, a leaf signed with SHA-1, a leaf signed by a CA of another
key algorithm, sizes over a target's limit.

``cryptography`` builds only X.509 v3 certificates and refuses to sign with SHA-1, so those two are
made by re-encoding what it builds (DER, RFC 5280 section 4.1) and signing the new to-be-signed part
with the CA's key: the result is what ``openssl`` makes with ``-sha1`` or without extensions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from certpush.models.domain import CertificateMaterial
from certpush_cli.sample_certificates import SampleCertificate, make_certificate

# DER of the AlgorithmIdentifiers used below (RFC 4055 / RFC 5758): OID then NULL parameters for RSA
_SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_SHA1_WITH_RSA = bytes.fromhex("300d06092a864886f70d0101050500")
_V3 = bytes.fromhex("a003020102")  # [0] EXPLICIT Version v3


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _content(der: bytes) -> bytes:
    """The content of the outermost TLV of ``der``."""
    first = der[1]
    if first < 0x80:
        return der[2 : 2 + first]
    size = first & 0x7F
    length = int.from_bytes(der[2 : 2 + size], "big")
    return der[2 + size : 2 + size + length]


def _certificate(tbs: bytes, algorithm: bytes, signature: bytes) -> x509.Certificate:
    der = _tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _leaf_builder(name: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name) -> x509.CertificateBuilder:
    now = datetime.now(UTC) - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=90))
    )


def x509_v1(name: str = "v1.example.com") -> SampleCertificate:
    """A version 1 leaf (no version field, so no extensions), issued by an EC CA."""
    base = make_certificate(name)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = x509.load_pem_x509_certificate(base.chain_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    v3 = _leaf_builder(name, key, ca.subject).sign(ca_key, hashes.SHA256())
    tbs = _content(v3.tbs_certificate_bytes)
    assert tbs.startswith(_V3)
    v1_tbs = _tlv(0x30, tbs[len(_V3) :])
    algorithm = _content(v3.public_bytes(serialization.Encoding.DER))[len(v3.tbs_certificate_bytes) :]
    algorithm = algorithm[: len(algorithm) - len(_tlv(0x03, b"\x00" + v3.signature))]
    leaf = _certificate(v1_tbs, algorithm, ca_key.sign(v1_tbs, ec.ECDSA(hashes.SHA256())))
    chain = _reissued_ca(base, ca_key)
    return SampleCertificate(_pem(leaf), _pem(chain), _key_pem(key), base.root_pem)


def _reissued_ca(base: SampleCertificate, ca_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> x509.Certificate:
    """A self-signed CA named as ``base``'s issuing CA, with ``ca_key``: it issued the rewritten leaf."""
    ca = x509.load_pem_x509_certificate(base.chain_pem.encode())
    builder = (
        x509.CertificateBuilder()
        .subject_name(ca.subject)
        .issuer_name(ca.subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ca.not_valid_before_utc)
        .not_valid_after(ca.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    )
    return builder.sign(ca_key, hashes.SHA256())


def sha1_signed(name: str = "sha1.example.com") -> SampleCertificate:
    """An EC leaf whose RSA CA signed it with sha1WithRSAEncryption (the signature is sound)."""
    base = make_certificate(name)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _reissued_ca(base, ca_key)
    key = ec.generate_private_key(ec.SECP256R1())
    sha256 = _leaf_builder(name, key, ca.subject).sign(ca_key, hashes.SHA256())
    tbs = sha256.tbs_certificate_bytes.replace(_SHA256_WITH_RSA, _SHA1_WITH_RSA)
    assert tbs != sha256.tbs_certificate_bytes
    leaf = _certificate(tbs, _SHA1_WITH_RSA, ca_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1()))
    return SampleCertificate(_pem(leaf), _pem(ca), _key_pem(key), base.root_pem)


def with_long_key_text(sample: SampleCertificate, characters: int) -> SampleCertificate:
    """The same material, its key PEM padded with a comment line to ``characters`` characters (text
    after a PEM block is ignored by readers; only the size changes)."""
    pad = characters - len(sample.private_key_pem) - 1
    return SampleCertificate(
        sample.certificate_pem, sample.chain_pem, sample.private_key_pem + "#" * pad + "\n", sample.root_pem
    )


def many_names(count: int, name: str = "big.example.com") -> SampleCertificate:
    """A leaf with ``count`` long subjectAltNames (about 60 characters of PEM each)."""
    label = "x" * 30
    return make_certificate(name, sans=[name, *(f"{label}{i:05d}.{name}" for i in range(count))])


SHAPES: dict[str, Callable[[], SampleCertificate]] = {
    "ec-p256": lambda: make_certificate("ec256.example.com"),
    "ec-p384": lambda: make_certificate("ec384.example.com", key_type="ec:P-384"),
    "ec-p521": lambda: make_certificate("ec521.example.com", key_type="ec:P-521"),
    "rsa-2048": lambda: make_certificate("rsa2048.example.com", key_type="rsa"),
    "rsa-4096": lambda: make_certificate("rsa4096.example.com", key_type="rsa:4096"),
    # over RSA 4096, as RSA 8192 is (which takes many seconds to make: the end-to-end tier makes one)
    "rsa-4160": lambda: make_certificate("rsa4160.example.com", key_type="rsa:4160"),
    "ed25519": lambda: make_certificate("ed25519.example.com", key_type="ed25519"),
    "x509-v1": x509_v1,
    # an ECDSA certificate under an RSA CA, as Let's Encrypt issued them for years: every target takes it
    "ec-signed-by-rsa": lambda: make_certificate("mixed.example.com", ca_key_type="rsa"),
    "rsa-signed-by-ed25519": lambda: make_certificate("edca.example.com", key_type="rsa", ca_key_type="ed25519"),
    "certificate-over-32k": lambda: many_names(560),
    # over 65,536 characters with its chain: more than one secret holds, so certpush never stores it
    "certificate-over-64k": lambda: many_names(900),
    "key-text-over-8k": lambda: with_long_key_text(make_certificate("longkey.example.com"), 8_300),
}
"""Every shape the target-rule tests use, by name (each made once per test session)."""


@cache
def shape(name: str) -> SampleCertificate:
    return SHAPES[name]()


def material(sample: SampleCertificate) -> CertificateMaterial:
    return CertificateMaterial(
        certificate_pem=sample.certificate_pem,
        chain_pem=sample.chain_pem,
        private_key_pem=SecretStr(sample.private_key_pem),
    )
