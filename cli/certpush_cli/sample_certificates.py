"""Certificates made at run time for the demo and the tests (no private key is ever committed):
a root CA, an intermediate and a server certificate issued by it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
KEY_TYPES = ("ec", "ec:P-256", "ec:P-384", "ec:P-521", "rsa", "rsa:BITS", "ed25519")
"""What ``make_certificate`` makes: EC P-256 (``ec``), another curve, RSA 2048 (``rsa``) or of BITS, Ed25519."""


def make_key(key_type: str) -> PrivateKey:
    """A private key of one of ``KEY_TYPES`` (RSA 8192 takes seconds)."""
    algorithm, _, size = key_type.partition(":")
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(size or 2048))
    if algorithm == "ec" and (size or "P-256") in _CURVES:
        return ec.generate_private_key(_CURVES[size or "P-256"])
    if algorithm == "ed25519" and not size:
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key type {key_type!r}; one of {', '.join(KEY_TYPES)}")


def _sign(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    # Ed25519 signs the message itself (RFC 8410): no separate hash
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


@dataclass(frozen=True)
class SampleCertificate:
    certificate_pem: str
    chain_pem: str
    private_key_pem: str
    root_pem: str

    def write(self, directory: Path, stem: str = "certificate") -> dict[str, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        paths = {
            "cert": directory / f"{stem}.pem",
            "chain": directory / f"{stem}.chain.pem",
            "key": directory / f"{stem}.key.pem",
            "root": directory / f"{stem}.root.pem",
        }
        paths["cert"].write_text(self.certificate_pem)
        paths["chain"].write_text(self.chain_pem)
        paths["root"].write_text(self.root_pem)
        paths["key"].touch(mode=0o600)
        paths["key"].write_text(self.private_key_pem)
        return paths


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certpush sample"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(
    subject: str,
    issuer_key: PrivateKey | None,
    issuer: x509.Name | None,
    key: PrivateKey,
    not_before: datetime,
    path_length: int | None,
    key_identifiers: bool = True,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if key_identifiers:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if issuer_key is not None and key_identifiers:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return _sign(builder, issuer_key or key)


def make_certificate(
    domain: str = "demo.example.com",
    sans: list[str] | None = None,
    days: int = 90,
    not_before: datetime | None = None,
    key_type: str = "ec",
    key_identifiers: bool = True,
    subject_alt_name: bool = True,
    ca_key_type: str | None = None,
) -> SampleCertificate:
    """A server certificate for ``domain`` (valid from ``not_before`` for ``days``) with its chain.

    ``key_type``: one of ``KEY_TYPES``; the root and the issuing CA have keys of the same family
    (RSA 2048, EC P-256 or Ed25519) unless ``ca_key_type`` names another.
    ``key_identifiers=False``: a CA that sets no SubjectKeyIdentifier / AuthorityKeyIdentifier on
    any certificate (as some private and older CAs do); ``subject_alt_name=False``: a leaf with only
    a common name."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_start = (not_before or now) - timedelta(days=30)
    key = make_key(key_type)
    ca_type = ca_key_type or key_type.partition(":")[0]
    root_key = make_key(ca_type)
    root = _ca("certpush sample root CA", None, None, root_key, ca_start, 1, key_identifiers)
    intermediate_key = make_key(ca_type)
    intermediate = _ca(
        "certpush sample issuing CA", root_key, root.subject, intermediate_key, ca_start, 0, key_identifiers
    )
    rsa_key = isinstance(key, rsa.RSAPrivateKey)
    start = not_before or now
    names = sans or [domain]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(domain))
        .issuer_name(intermediate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=rsa_key,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if subject_alt_name:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    if key_identifiers:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(intermediate_key.public_key()), critical=False
        )
    leaf = _sign(builder, intermediate_key)
    return SampleCertificate(
        certificate_pem=_pem(leaf),
        chain_pem=_pem(intermediate),
        private_key_pem=_key_pem(key),
        root_pem=_pem(root),
    )


def other_private_key() -> str:
    """A key that belongs to no certificate: for the key-mismatch cases."""
    return _key_pem(ec.generate_private_key(ec.SECP256R1()))
