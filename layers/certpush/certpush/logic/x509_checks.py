"""X.509 inspection and the checks a push needs, all done with `cryptography`.

The chain check walks the links itself (each certificate directly issued by the next, with
``verify_directly_issued_by``) because a pushed chain usually ends at an intermediate, and
``cryptography.x509.verification`` needs a trusted root in its store: when the chain does end in a
self-signed root we hand the whole path to the library's verifier instead."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from certpush.errors import InvalidCertificateError
from certpush.models.domain import CertificateMaterial, RejectReason


@dataclass(frozen=True)
class CertificateFacts:
    common_name: str
    sans: list[str]
    fingerprint_sha256: str
    serial_number: str
    issuer: str
    not_before: datetime
    not_after: datetime
    key_type: str


def load_certificate(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise InvalidCertificateError(
            RejectReason.INVALID_CERTIFICATE, "the certificate is not a PEM-encoded X.509 certificate"
        ) from exc


def load_chain(pem: str) -> list[x509.Certificate]:
    if not pem.strip():
        return []
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID, "the chain is not a list of PEM-encoded X.509 certificates"
        ) from exc


def describe_key(public_key: object) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA_{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC_{public_key.curve.name}"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ED25519"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "ED448"
    if isinstance(public_key, dsa.DSAPublicKey):
        return f"DSA_{public_key.key_size}"
    return type(public_key).__name__


def inspect_certificate(pem: str) -> CertificateFacts:
    cert = load_certificate(pem)
    cn_attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(cn_attrs[0].value) if cn_attrs else ""
    try:
        san_ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        sans = [str(n) for n in san_ext.value.get_values_for_type(x509.DNSName)]
        sans += [str(ip) for ip in san_ext.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        sans = []
    if not sans and common_name:
        sans = [common_name]
    if not common_name and sans:
        common_name = sans[0]
    return CertificateFacts(
        common_name=common_name,
        sans=sans,
        fingerprint_sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        serial_number=format(cert.serial_number, "x"),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=describe_key(cert.public_key()),
    )


def check_validity(cert: x509.Certificate, now: datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise InvalidCertificateError(
            RejectReason.NOT_YET_VALID,
            f"the certificate is not valid before {cert.not_valid_before_utc.isoformat()}",
        )
    if now > cert.not_valid_after_utc:
        raise InvalidCertificateError(
            RejectReason.EXPIRED, f"the certificate expired on {cert.not_valid_after_utc.isoformat()}"
        )


def check_key_matches(cert: x509.Certificate, private_key_pem: str) -> None:
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidCertificateError(
            RejectReason.KEY_MISMATCH, "the private key is not an unencrypted PEM private key"
        ) from exc
    if key.public_key() != cert.public_key():
        raise InvalidCertificateError(
            RejectReason.KEY_MISMATCH, "the private key does not belong to the certificate's public key"
        )


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _verification_name(cert: x509.Certificate) -> x509.DNSName | None:
    """A concrete DNS name the certificate is for (a wildcard's ``*`` replaced by a label)."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for name in names.get_values_for_type(x509.DNSName):
        return x509.DNSName(name.replace("*.", "certpush-check.", 1))
    return None


def check_chain(cert: x509.Certificate, chain: list[x509.Certificate], now: datetime) -> None:
    """Each certificate must be issued by the next one in the chain; every chain certificate must be
    valid now. A chain that ends in a self-signed root is also verified as a path by cryptography."""
    path = [cert, *chain]
    for child, parent in itertools.pairwise(path):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise InvalidCertificateError(
                RejectReason.CHAIN_INVALID,
                f"'{child.subject.rfc4514_string()}' is not issued by the next chain certificate "
                f"'{parent.subject.rfc4514_string()}'",
            ) from exc
    for link in chain:
        if not link.not_valid_before_utc <= now <= link.not_valid_after_utc:
            raise InvalidCertificateError(
                RejectReason.CHAIN_INVALID,
                f"chain certificate '{link.subject.rfc4514_string()}' is outside its validity period",
            )
    subject = _verification_name(cert)
    if chain and subject is not None and _is_self_signed(chain[-1]):
        verifier = PolicyBuilder().store(Store([chain[-1]])).time(now).build_server_verifier(subject)
        try:
            verifier.verify(cert, chain[:-1])
        except VerificationError as exc:
            raise InvalidCertificateError(
                RejectReason.CHAIN_INVALID, f"the chain does not verify to its root: {exc}"
            ) from exc


def check_material(material: CertificateMaterial, now: datetime | None = None) -> CertificateFacts:
    """Every check a push needs, in the order a user wants to hear about problems."""
    now = now or datetime.now(UTC)
    cert = load_certificate(material.certificate_pem)
    check_key_matches(cert, material.private_key_pem.get_secret_value())
    check_chain(cert, load_chain(material.chain_pem), now)
    check_validity(cert, now)
    return inspect_certificate(material.certificate_pem)
