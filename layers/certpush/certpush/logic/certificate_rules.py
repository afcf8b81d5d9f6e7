"""Every rule certpush applies to certificate material, in one table, each with what it mirrors.

certpush refuses (at import) or rejects (before a push) only what a target would refuse too, so
that a push is never attempted that cannot succeed, and nothing a target accepts is turned away.
A rule's ``code`` is the reason a refusal or rejection carries (``RejectReason`` for the rules the
validator re-checks before every push, ``InputRefusal`` for what only an import can meet).

The checks themselves live in ``certpush.logic.x509_checks`` (X.509) and ``certpush.logic.material_files``
(files as people have them); both raise ``InvalidCertificateError`` with one of these codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from certpush.models.domain import RejectReason


class InputRefusal(StrEnum):
    """Why an import refused the files it was given (nothing is stored)."""

    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    EMPTY_FILE = "EMPTY_FILE"
    SEVERAL_CERTIFICATES = "SEVERAL_CERTIFICATES"
    PRIVATE_KEY_OUTSIDE_KEY_FILE = "PRIVATE_KEY_OUTSIDE_KEY_FILE"
    NO_PRIVATE_KEY = "NO_PRIVATE_KEY"
    SEVERAL_PRIVATE_KEYS = "SEVERAL_PRIVATE_KEYS"
    ENCRYPTED_PRIVATE_KEY = "ENCRYPTED_PRIVATE_KEY"
    PKCS12_PASSWORD = "PKCS12_PASSWORD"  # noqa: S105 (a reason code, not a password)
    TOO_LARGE = "TOO_LARGE"
    INVALID_ID = "INVALID_ID"


class Outcome(StrEnum):
    REFUSE = "refuse"  # the import stores nothing (``--force`` overrides only KEY_MISMATCH, CHAIN_INVALID)
    WARN = "warn"  # the import stores it and says why a target or a browser may not like it
    REJECT = "reject"  # the validator rejects every push of it (REJECTED record with the code)


@dataclass(frozen=True)
class CertificateRule:
    code: str
    at_import: Outcome
    before_push: Outcome | None
    rule: str
    mirrors: str


# Size limits, in characters of PEM (= bytes: PEM is ASCII).
SECRET_MAX_BYTES = 65_536  # Secrets Manager CreateSecret: SecretString max 65,536 bytes (botocore model)
ACM_CERTIFICATE_MAX = 32_768  # ACM ImportCertificate: Certificate max 32,768 (botocore model)
ACM_PRIVATE_KEY_MAX = 5_120  # ACM User Guide, "Prerequisites for importing certificates": key <= 5 KB
HUAWEI_ELB_CERTIFICATE_MAX = 65_536  # Huawei Cloud ELB v3 CreateCertificate: certificate <= 65,536 chars
HUAWEI_ELB_PRIVATE_KEY_MAX = 8_192  # Huawei Cloud ELB v3 CreateCertificate: private_key <= 8,192 chars
HUAWEI_ELB_CHAIN_LEVELS = 11  # Huawei Cloud ELB v3 CreateCertificate: chain up to 11 levels

# (target, what, limit): a certificate over one of these imports with a warning naming the target
TARGET_SIZE_LIMITS: tuple[tuple[str, str, int], ...] = (
    ("aws:elb (ACM)", "certificate", ACM_CERTIFICATE_MAX),
    ("aws:elb (ACM)", "private key", ACM_PRIVATE_KEY_MAX),
    ("huaweicloud:elb", "certificate with its chain", HUAWEI_ELB_CERTIFICATE_MAX),
    ("huaweicloud:elb", "private key", HUAWEI_ELB_PRIVATE_KEY_MAX),
)

NO_SAN_WARNING = "NO_SAN"
TARGET_SIZE_WARNING = "TARGET_SIZE"

RULES: tuple[CertificateRule, ...] = (
    CertificateRule(
        InputRefusal.UNSUPPORTED_FORMAT, Outcome.REFUSE, None,
        "a file is PEM, DER (certificate or key) or PKCS#12; anything else is named and refused",
        "ACM and Huawei Cloud take PEM only: certpush converts DER and PKCS#12 to PEM before storing",
    ),
    CertificateRule(
        InputRefusal.EMPTY_FILE, Outcome.REFUSE, None, "a --cert or --key file holds something", "every target"
    ),
    CertificateRule(
        InputRefusal.SEVERAL_CERTIFICATES, Outcome.REFUSE, None,
        "--cert holds one certificate; the rest of a fullchain file goes to --chain (or --chain-from-cert)",
        "ACM ImportCertificate Certificate / Huawei ELB certificate: the server certificate, chain separate",
    ),
    CertificateRule(
        InputRefusal.PRIVATE_KEY_OUTSIDE_KEY_FILE, Outcome.REFUSE, None,
        "a private key is only read from --key (or --pkcs12); one in --cert or --chain is never stored",
        "a key in a certificate field would be shown to anyone who can read the certificate",
    ),
    CertificateRule(
        InputRefusal.NO_PRIVATE_KEY, Outcome.REFUSE, None, "--key (or the PKCS#12 file) holds a private key",
        "ACM ImportCertificate PrivateKey / Huawei ELB private_key / WAF key are required",
    ),
    CertificateRule(
        InputRefusal.SEVERAL_PRIVATE_KEYS, Outcome.REFUSE, None, "--key holds exactly one private key",
        "every target takes one key",
    ),
    CertificateRule(
        InputRefusal.ENCRYPTED_PRIVATE_KEY, Outcome.REFUSE, None, "the private key is not encrypted",
        "ACM: 'the private key must be unencrypted'; Huawei ELB and WAF take no key password",
    ),
    CertificateRule(
        InputRefusal.PKCS12_PASSWORD, Outcome.REFUSE, None, "the PKCS#12 password opens the file",
        "(reading the file)",
    ),
    CertificateRule(
        InputRefusal.TOO_LARGE, Outcome.REFUSE, None,
        f"certificate, chain and key fit in one secret of {SECRET_MAX_BYTES} bytes",
        "Secrets Manager CreateSecret: SecretString at most 65,536 bytes",
    ),
    CertificateRule(
        TARGET_SIZE_WARNING, Outcome.WARN, None,
        "sizes over a target's limit warn and name the target (" + ", ".join(
            f"{target} {what} <= {limit}" for target, what, limit in TARGET_SIZE_LIMITS) + ")",
        "ACM ImportCertificate and Huawei Cloud ELB v3 CreateCertificate field limits",
    ),
    CertificateRule(
        InputRefusal.INVALID_ID, Outcome.REFUSE, None,
        "a certificate id is 1-128 of A-Z a-z 0-9 . _ - and starts with a letter or digit",
        "certpush's own rule (models/domain.py CertificateId); every target name derived from it fits "
        "[A-Za-z0-9_.-]{1,64} (Huawei WAF name rule)",
    ),
    CertificateRule(
        RejectReason.INVALID_CERTIFICATE, Outcome.REFUSE, Outcome.REJECT, "the certificate is X.509",
        "ACM: 'The certificate must be ... X.509 version 1 or 3'; Huawei SCM.0006 / WAF.00011019",
    ),
    CertificateRule(
        RejectReason.NOT_YET_VALID, Outcome.WARN, Outcome.REJECT, "now is not before the certificate's notBefore",
        "ACM ImportCertificate checks now is inside NotBefore..NotAfter",
    ),
    CertificateRule(
        RejectReason.EXPIRED, Outcome.WARN, Outcome.REJECT,
        "now is not after the certificate's notAfter (checked first, whatever the chain holds)",
        "ACM ImportCertificate; Huawei WAF.00011021 expired certificate",
    ),
    CertificateRule(
        RejectReason.KEY_MISMATCH, Outcome.REFUSE, Outcome.REJECT,
        "the private key belongs to the certificate's public key (checked after the dates)",
        "ACM 'The private key ... must match the public key'; Huawei SCM.0014 key and certificate do not match",
    ),
    CertificateRule(
        RejectReason.CHAIN_INVALID, Outcome.REFUSE, Outcome.REJECT,
        "link by link: each certificate is signed by the next, names its subject as issuer, the next is "
        "a CA (basicConstraints cA, path length) and inside its validity; a self-signed root at the end is "
        "allowed, no root is required and no web-PKI profile (key identifiers, EKU) is imposed "
        f"(checked last); at most {HUAWEI_ELB_CHAIN_LEVELS} levels",
        "ACM 'certificate chain must be PEM ... in order'; Huawei ELB 'chain up to 11 levels'; neither "
        "requires AuthorityKeyIdentifier or a root",
    ),
    CertificateRule(
        NO_SAN_WARNING, Outcome.WARN, None,
        "a certificate without subjectAltName imports with a warning: browsers ignore the common name",
        "ACM and Huawei Cloud accept it; RFC 6125 / CA/Browser Forum: clients match only the SANs",
    ),
)  # fmt: skip

RULES_BY_CODE: dict[str, CertificateRule] = {str(rule.code): rule for rule in RULES}
