"""Certificate and key files as people have them, read with ``cryptography`` into PEM material.

Accepted: PEM (any number of blocks, text around them ignored), DER (one certificate or one
unencrypted key) and PKCS#12 (``.p12`` / ``.pfx``, with its password). Anything else is refused
with a one-line message that names what was found. The rules (one certificate in ``--cert``, a
private key only in ``--key``...) and the target behaviour each mirrors are listed in
``certpush.logic.certificate_rules``; every refusal is an ``InvalidCertificateError`` whose
``reason`` is an ``InputRefusal`` code. No message ever holds key material.

Certificates are stored re-encoded by ``cryptography`` (canonical PEM, nothing around the blocks);
a PEM key is stored as its block, a DER or PKCS#12 key as unencrypted PKCS#8 PEM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr

from certpush.errors import InvalidCertificateError
from certpush.logic.certificate_rules import SECRET_MAX_BYTES, InputRefusal
from certpush.models.domain import CertificateMaterial, RejectReason
from certpush.models.material_secret import encode_material

# a file larger than this cannot hold material that fits one secret, whatever its encoding
MAX_FILE_BYTES = 4 * SECRET_MAX_BYTES

# RFC 7468 textual encoding: "-----BEGIN label-----" ... "-----END label-----"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #/._-]{1,64})-----(.*?)-----END \1-----", re.DOTALL)
_PEM_BEGIN = b"-----BEGIN "
_KEY_BEGIN = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")
_CERTIFICATE_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE"}
_OTHER_LABELS = {
    b"CERTIFICATE REQUEST": "a certificate signing request (CSR), not a certificate",
    b"NEW CERTIFICATE REQUEST": "a certificate signing request (CSR), not a certificate",
    b"PUBLIC KEY": "a public key, not a certificate",
    b"RSA PUBLIC KEY": "a public key, not a certificate",
    b"TRUSTED CERTIFICATE": "an OpenSSL TRUSTED CERTIFICATE (convert: openssl x509 -in FILE -out cert.pem)",
    b"PKCS7": "a PKCS#7 bundle (convert: openssl pkcs7 -print_certs -in FILE -out certs.pem)",
    b"X509 CRL": "a certificate revocation list",
}
# DER PKCS#12 (RFC 7292): SEQUENCE { INTEGER 3, ContentInfo { OID pkcs7-data ... } ... }
_PKCS12_VERSION = b"\x02\x01\x03"
_PKCS7_DATA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"
_JAVA_KEYSTORE_MAGIC = b"\xfe\xed\xfe\xed"


def _refuse(reason: str, message: str) -> InvalidCertificateError:
    return InvalidCertificateError(reason, message)


@dataclass
class FileContents:
    """What one file holds: certificates (in file order), private keys (as PEM), anything else."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    private_keys: list[str] = field(default_factory=list, repr=False)
    encrypted_keys: int = 0
    unreadable_keys: int = 0
    other: list[str] = field(default_factory=list)

    @property
    def has_key_material(self) -> bool:
        return bool(self.private_keys or self.encrypted_keys or self.unreadable_keys)


def _looks_like_pkcs12(data: bytes) -> bool:
    head = data[:64]
    return head[:1] == b"\x30" and _PKCS12_VERSION in head[:8] and _PKCS7_DATA_OID in head


def _read_key_block(der_or_pem: bytes, pem: bool, contents: FileContents) -> None:
    load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    try:
        key = load(der_or_pem, password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        contents.encrypted_keys += 1
        return
    except (ValueError, UnsupportedAlgorithm):
        if pem:  # a PEM block labelled as a key is key material even when it cannot be read
            contents.unreadable_keys += 1
        return
    if pem:
        contents.private_keys.append(der_or_pem.decode("ascii").strip() + "\n")
    else:
        contents.private_keys.append(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        )


def _read_pem(data: bytes, contents: FileContents) -> None:
    for match in _PEM_BLOCK.finditer(data):
        label, block = match[1], match[0]
        if label in _CERTIFICATE_LABELS:
            try:
                contents.certificates.append(x509.load_pem_x509_certificate(block))
            except (ValueError, x509.InvalidVersion):  # InvalidVersion is no ValueError
                contents.other.append("a CERTIFICATE block that is not a readable X.509 certificate")
        elif label.endswith(b"PRIVATE KEY"):
            _read_key_block(block, True, contents)
        else:
            contents.other.append(_OTHER_LABELS.get(label, f"a PEM block '{label.decode()}'"))
    unclosed = data.count(_PEM_BEGIN) - len(_PEM_BLOCK.findall(data))
    if unclosed > 0:
        contents.other.append(f"{unclosed} PEM block(s) without a matching END line")
    # a private-key BEGIN line anywhere (cut short, or inside another block) is key material:
    # never treat such a file as harmless
    if _KEY_BEGIN.search(data) and not contents.has_key_material:
        contents.unreadable_keys += 1


def read_file(data: bytes) -> FileContents:
    """Everything ``data`` holds, whatever the encoding. Refuses only what it cannot name at all."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(
            InputRefusal.TOO_LARGE, f"the file is {len(data)} bytes; certificate material fits in {SECRET_MAX_BYTES}"
        )
    contents = FileContents()
    if not data.strip():
        return contents
    if _PEM_BEGIN in data:
        _read_pem(data, contents)
        return contents
    if data.startswith(_JAVA_KEYSTORE_MAGIC):
        contents.other.append(
            "a Java KeyStore (convert: keytool -importkeystore -srckeystore FILE -deststoretype PKCS12)"
        )
        return contents
    if _looks_like_pkcs12(data):
        contents.other.append("a PKCS#12 file (pass it with --pkcs12)")
        return contents
    try:
        contents.certificates.append(x509.load_der_x509_certificate(data))
        return contents
    except x509.InvalidVersion:
        contents.other.append("an X.509 certificate of a version no X.509 reader knows (not v1, v2 or v3)")
        return contents
    except ValueError:
        pass
    _read_key_block(data, False, contents)
    if contents.has_key_material:
        return contents
    try:
        data.decode("ascii")
        contents.other.append("text without a PEM block (no BEGIN line)")
    except UnicodeDecodeError:
        contents.other.append("binary data that is no DER certificate, DER private key or PKCS#12 file")
    return contents


def _what(contents: FileContents) -> str:
    return "; ".join(contents.other) if contents.other else "nothing usable"


def _refuse_key_outside(option: str, contents: FileContents) -> None:
    if contents.has_key_material:
        raise _refuse(
            InputRefusal.PRIVATE_KEY_OUTSIDE_KEY_FILE,
            f"the {option} file holds a private key; nothing was stored. Give the key with --key only "
            f"(split a combined file: openssl x509 -in FILE -out cert.pem; openssl pkey -in FILE -out key.pem)",
        )


def certificates_of(option: str, data: bytes) -> list[x509.Certificate]:
    """The certificates of a --cert or --chain file; a private key there is refused."""
    contents = read_file(data)
    _refuse_key_outside(option, contents)
    if not contents.certificates and option != "--chain":
        reason = InputRefusal.EMPTY_FILE if not data.strip() else InputRefusal.UNSUPPORTED_FORMAT
        raise _refuse(reason, f"the {option} file holds no certificate: found {_what(contents)}")
    if contents.other:
        raise _refuse(InputRefusal.UNSUPPORTED_FORMAT, f"the {option} file holds {_what(contents)}")
    return contents.certificates


def private_key_of(data: bytes) -> str:
    """The one unencrypted private key of a --key file, as PEM (certificates beside it are ignored)."""
    contents = read_file(data)
    if contents.encrypted_keys:
        raise _refuse(
            InputRefusal.ENCRYPTED_PRIVATE_KEY,
            "the --key file holds an encrypted private key; targets take it unencrypted "
            "(decrypt: openssl pkey -in FILE -out key.pem)",
        )
    if contents.unreadable_keys:
        raise _refuse(
            InputRefusal.UNSUPPORTED_FORMAT,
            "the --key file holds a private key that cannot be read (not PKCS#1, SEC1 or PKCS#8; "
            "convert: openssl pkey -in FILE -out key.pem)",
        )
    if not contents.private_keys and contents.certificates:
        raise _refuse(
            InputRefusal.NO_PRIVATE_KEY,
            "the --key file holds a certificate: this is a certificate, not a private key (give the certificate "
            "with --cert and its key file with --key)",
        )
    if not contents.private_keys:
        reason = InputRefusal.EMPTY_FILE if not data.strip() else InputRefusal.NO_PRIVATE_KEY
        raise _refuse(reason, f"the --key file holds no private key: found {_what(contents)}")
    if len(contents.private_keys) > 1:
        raise _refuse(
            InputRefusal.SEVERAL_PRIVATE_KEYS,
            f"the --key file holds {len(contents.private_keys)} private keys; give the one of this certificate",
        )
    return contents.private_keys[0]


def _pem(certificates: Sequence[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def material_from_files(
    cert: bytes, key: bytes, chain: bytes | None = None, chain_from_cert: bool = False
) -> CertificateMaterial:
    """--cert, --key and --chain as given: one certificate in --cert (or, with ``chain_from_cert``,
    the first is the certificate and the rest its chain, before any --chain certificates)."""
    certificates = certificates_of("--cert", cert)
    chain_certificates = certificates_of("--chain", chain) if chain is not None else []
    if len(certificates) > 1 and not chain_from_cert:
        raise _refuse(
            InputRefusal.SEVERAL_CERTIFICATES,
            f"the --cert file holds {len(certificates)} certificates (a fullchain file?); targets take one. "
            "Pass --chain-from-cert to use the rest as the chain, or split it: the first block to --cert, "
            "the others to --chain",
        )
    private_key = private_key_of(key)
    return CertificateMaterial(
        certificate_pem=_pem(certificates[:1]),
        chain_pem=_pem([*certificates[1:], *chain_certificates]),
        private_key_pem=SecretStr(private_key),
    )


def chain_pem_of(data: bytes) -> str:
    """The certificates of a --chain file as canonical PEM."""
    return _pem(certificates_of("--chain", data))


def _ordered_chain(leaf: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """PKCS#12 files keep their certificates in no particular order: issuer after certificate."""
    chain: list[x509.Certificate] = []
    remaining = list(others)
    current = leaf
    while remaining:
        issuer = next((c for c in remaining if c.subject == current.issuer), None)
        if issuer is None or issuer.subject == current.subject:
            break
        chain.append(issuer)
        remaining.remove(issuer)
        current = issuer
    return chain + [c for c in remaining if c.subject != c.issuer] + [c for c in remaining if c.subject == c.issuer]


def _open_pkcs12(data: bytes, password: str | None) -> pkcs12.PKCS12KeyAndCertificates:
    """Without a password given, tries none and the empty one (exports differ in which they use)."""
    if password is not None and "\x00" in password:
        # cryptography's Rust core panics (an uncatchable PanicException) on a NUL in a password
        raise _refuse(InputRefusal.PKCS12_PASSWORD, "the PKCS#12 password contains a NUL character")
    if password is not None:
        return pkcs12.load_pkcs12(data, password.encode())
    try:
        return pkcs12.load_pkcs12(data, None)
    except ValueError:
        return pkcs12.load_pkcs12(data, b"")


def material_from_pkcs12(data: bytes, password: str | None) -> CertificateMaterial:
    """The key, certificate and chain of a PKCS#12 file."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(InputRefusal.TOO_LARGE, f"the --pkcs12 file is {len(data)} bytes; too large for one secret")
    if not data.strip():
        raise _refuse(InputRefusal.EMPTY_FILE, "the --pkcs12 file is empty")
    if _PEM_BEGIN in data:
        raise _refuse(
            InputRefusal.UNSUPPORTED_FORMAT, "the --pkcs12 file is PEM text: pass it with --cert, --key and --chain"
        )
    try:
        bundle = _open_pkcs12(data, password)
    except UnsupportedAlgorithm as exc:
        raise _refuse(
            InputRefusal.UNSUPPORTED_FORMAT,
            "the PKCS#12 file uses an encryption cryptography cannot read (legacy RC2?); re-export it: "
            "openssl pkcs12 -in FILE -nodes | openssl pkcs12 -export -out new.p12",
        ) from exc
    except (ValueError, TypeError) as exc:
        if not _looks_like_pkcs12(data):
            raise _refuse(InputRefusal.UNSUPPORTED_FORMAT, "the --pkcs12 file is not PKCS#12 (.p12 / .pfx)") from exc
        raise _refuse(
            InputRefusal.PKCS12_PASSWORD,
            "the PKCS#12 password does not open the file (set CERTPUSH_PKCS12_PASSWORD or type it at the prompt)",
        ) from exc
    if bundle.key is None:
        raise _refuse(InputRefusal.NO_PRIVATE_KEY, "the PKCS#12 file holds no private key")
    if bundle.cert is None:
        raise _refuse(RejectReason.INVALID_CERTIFICATE, "the PKCS#12 file holds no certificate for its key")
    leaf = bundle.cert.certificate
    chain = _ordered_chain(leaf, [c.certificate for c in bundle.additional_certs])
    key_pem = bundle.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return CertificateMaterial(certificate_pem=_pem([leaf]), chain_pem=_pem(chain), private_key_pem=SecretStr(key_pem))


def secret_size(material: CertificateMaterial) -> int:
    """Bytes of the one secret a version is stored in (certificate, chain and key as JSON)."""
    return len(encode_material(material).encode())


def check_secret_size(material: CertificateMaterial) -> None:
    """Refuses material that cannot be stored (TOO_LARGE). A target's own size limits are target
    rules (``certificate_rules.SizeLimit``): the import warns about them, a push there is rejected."""
    size = secret_size(material)
    if size > SECRET_MAX_BYTES:
        raise _refuse(
            InputRefusal.TOO_LARGE,
            f"certificate, chain and key take {size} bytes; a Secrets Manager secret holds at most {SECRET_MAX_BYTES}",
        )
