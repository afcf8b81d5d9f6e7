"""X.509 inspection and the checks a push needs, all done with `cryptography`.

The rules, and which target behaviour each mirrors, are listed in ``certpush.logic.certificate_rules``.
The chain check walks the links itself (each certificate directly issued by the next, with
``verify_directly_issued_by``): ``cryptography.x509.verification`` would need a trusted root and
imposes the web-PKI profile (RFC 5280 key identifiers, EKU), which neither ACM nor Huawei Cloud
requires, so it would refuse chains the targets take."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

from certpush.errors import InvalidCertificateError
from certpush.logic.certificate_rules import MAX_CHAIN_LEVELS, MaterialShape
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
    except (ValueError, UnicodeError) as exc:
        raise InvalidCertificateError(
            RejectReason.INVALID_CERTIFICATE, "the certificate is not a PEM-encoded X.509 certificate"
        ) from exc


def load_chain(pem: str) -> list[x509.Certificate]:
    if not pem.strip():
        return []
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except (ValueError, UnicodeError) as exc:
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


def _signature_hash(cert: x509.Certificate) -> str:
    """The hash a certificate is signed with ("sha1", "md5"...), or its signature algorithm's name."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    return algorithm.name if algorithm is not None else _signature_name(cert)


def _signature_name(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

# the algorithm of the key that made a signature, by the signature's algorithm (RFC 5754, 5758, 8410, 4055)
_SIGNER_ALGORITHM = {
    SignatureAlgorithmOID.RSA_WITH_MD5: "RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA1: "RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA224: "RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "RSA",
    SignatureAlgorithmOID.RSASSA_PSS: "RSA",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "EC",
    SignatureAlgorithmOID.ECDSA_WITH_SHA224: "EC",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "EC",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "EC",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "EC",
    SignatureAlgorithmOID.ED25519: "Ed25519",
    SignatureAlgorithmOID.ED448: "Ed448",
    SignatureAlgorithmOID.DSA_WITH_SHA1: "DSA",
    SignatureAlgorithmOID.DSA_WITH_SHA224: "DSA",
    SignatureAlgorithmOID.DSA_WITH_SHA256: "DSA",
}


def key_algorithm(public_key: object) -> tuple[str, str | None]:
    """(algorithm, size) as the target rules name them: ("RSA", "2048"), ("EC", "P-256"), ("Ed25519", None)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", str(public_key.key_size)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", _CURVES.get(public_key.curve.name, public_key.curve.name)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519", None
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448", None
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", str(public_key.key_size)
    return type(public_key).__name__, None


def material_shape(material: CertificateMaterial) -> MaterialShape:
    """What the target rules (``certificate_rules.TargetCertificateRules``) look at."""
    cert = load_certificate(material.certificate_pem)
    try:
        algorithm, size = key_algorithm(cert.public_key())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidCertificateError(
            RejectReason.INVALID_CERTIFICATE, f"the certificate's key cannot be read: {type(exc).__name__}"
        ) from exc
    return MaterialShape(
        key_algorithm=algorithm,
        key_size=size,
        signature_algorithm=_signature_name(cert),
        signer_key_algorithm=_SIGNER_ALGORITHM.get(cert.signature_algorithm_oid, _signature_name(cert)),
        x509_version=1 if cert.version is x509.Version.v1 else 3,
        certificate_chars=len(material.certificate_pem),
        certificate_with_chain_chars=len(material.full_chain_pem),
        private_key_chars=len(material.private_key_pem.get_secret_value()),
    )


def inspect_certificate(pem: str) -> CertificateFacts:
    """What the inventory records of a certificate. ``sans`` are the names its subjectAltName
    really holds (empty without one: the NO_SAN rule warns)."""
    cert = load_certificate(pem)
    try:
        cn_attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(cn_attrs[0].value) if cn_attrs else ""
        try:
            san_ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            sans = [str(n) for n in san_ext.value.get_values_for_type(x509.DNSName)]
            sans += [str(ip) for ip in san_ext.value.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            sans = []
        return CertificateFacts(
            common_name=common_name or (sans[0] if sans else ""),
            sans=sans,
            fingerprint_sha256=hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
            serial_number=format(cert.serial_number, "x"),
            issuer=cert.issuer.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            key_type=describe_key(cert.public_key()),
        )
    except (ValueError, UnsupportedAlgorithm) as exc:  # malformed extensions or names, unknown key type
        raise InvalidCertificateError(
            RejectReason.INVALID_CERTIFICATE, f"the certificate cannot be read: {type(exc).__name__}"
        ) from exc


def check_validity(cert: x509.Certificate, now: datetime) -> None:
    """RejectReason.NOT_YET_VALID / EXPIRED (see ``certificate_rules.RULES``)."""
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
    """RejectReason.KEY_MISMATCH. The key is never part of a message."""
    try:
        # the public halves are compared: RSA's consistency check (seconds for an 8192-bit key, on
        # every push) is not needed for that; the key was checked when read from its file (material_files)
        key = serialization.load_pem_private_key(
            private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidCertificateError(
            RejectReason.KEY_MISMATCH, "the private key is not an unencrypted PEM private key"
        ) from exc
    if key.public_key() != cert.public_key():
        raise InvalidCertificateError(
            RejectReason.KEY_MISMATCH, "the private key does not belong to the certificate's public key"
        )


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _check_link(child: x509.Certificate, parent: x509.Certificate, below: int, now: datetime) -> None:
    """One link of the chain: ``parent`` issued ``child`` and may issue certificates.

    ``below``: how many CA certificates lie between ``parent`` and the leaf (for pathLenConstraint)."""
    if child.issuer != parent.subject:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"'{_subject(child)}' names issuer '{child.issuer.rfc4514_string()}', but the next chain "
            f"certificate is '{_subject(parent)}' (the chain goes in order: each issuer follows its certificate)",
        )
    signer = _SIGNER_ALGORITHM.get(child.signature_algorithm_oid)
    issuer_key = key_algorithm(parent.public_key())[0]
    if signer is not None and signer != issuer_key:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"'{_subject(child)}' is not issued by the next chain certificate '{_subject(parent)}' "
            f"(it is signed with an {signer} key, that certificate has an {issuer_key} key)",
        )
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # names and key algorithms match, so cryptography refuses the algorithm itself (SHA-1 and MD5
        # signatures: "Unsupported signature algorithm"); the signature may well be sound, openssl
        # verifies it, but certpush cannot check it
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"'{_subject(child)}' cannot be checked against the next chain certificate '{_subject(parent)}': "
            f"signature algorithm {_signature_hash(child)} is not accepted (cryptography refuses it)",
        ) from exc
    except InvalidSignature as exc:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"'{_subject(child)}' is not issued by the next chain certificate '{_subject(parent)}' "
            "(its signature does not verify with that certificate's key)",
        ) from exc
    try:
        constraints: x509.BasicConstraints | None = parent.extensions.get_extension_for_class(
            x509.BasicConstraints
        ).value
    except x509.ExtensionNotFound:
        constraints = None
    # an X.509 v1 certificate has no extensions; OpenSSL (which the targets run) accepts it as a CA
    is_ca = constraints.ca if constraints is not None else parent.version is x509.Version.v1
    if not is_ca:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"chain certificate '{_subject(parent)}' is not a CA certificate (basicConstraints cA is not set)",
        )
    if constraints is not None and constraints.path_length is not None and below > constraints.path_length:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"chain certificate '{_subject(parent)}' allows {constraints.path_length} CA certificate(s) "
            f"below it, the chain has {below}",
        )
    if not parent.not_valid_before_utc <= now <= parent.not_valid_after_utc:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"chain certificate '{_subject(parent)}' is outside its validity period "
            f"({parent.not_valid_before_utc:%Y-%m-%d} to {parent.not_valid_after_utc:%Y-%m-%d})",
        )


def check_chain(cert: x509.Certificate, chain: list[x509.Certificate], now: datetime) -> None:
    """RejectReason.CHAIN_INVALID: verified link by link, whether or not the chain ends in its root.

    No trust store and no web-PKI profile: ACM and Huawei Cloud take a chain that ends at an
    intermediate, and require neither key identifiers nor extended key usage (``certificate_rules``)."""
    if len(chain) + 1 > MAX_CHAIN_LEVELS:
        raise InvalidCertificateError(
            RejectReason.CHAIN_INVALID,
            f"the certificate and its chain are {len(chain) + 1} levels; at most {MAX_CHAIN_LEVELS}",
        )
    path = [cert, *chain]
    for below, (child, parent) in enumerate(itertools.pairwise(path)):
        _check_link(child, parent, below, now)


def check_material(material: CertificateMaterial, now: datetime | None = None) -> CertificateFacts:
    """Every check a push needs, in the order of ``certificate_rules``: dates, then key, then chain."""
    now = now or datetime.now(UTC)
    cert = load_certificate(material.certificate_pem)
    check_validity(cert, now)
    check_key_matches(cert, material.private_key_pem.get_secret_value())
    check_chain(cert, load_chain(material.chain_pem), now)
    return inspect_certificate(material.certificate_pem)
