"""Every rule certpush applies to certificate material, in one table that the code reads.

certpush refuses (at import) or rejects (before a push) only what a target would refuse too, so
that a push is never attempted that cannot succeed, and nothing a target accepts is turned away.

Two kinds of rules:

* ``RULES``: one row per reason code. ``at_import`` and ``before_push`` say what the import
  (``certificate_import``) and the validator do when the rule is broken, and ``forceable`` which
  refusals ``certificates import --force`` overrides; ``certificate_import`` and the CLI read them
  from here. The checks themselves live in ``certpush.logic.x509_checks`` (X.509) and
  ``certpush_cli.logic.material_files`` (files as people have them); both raise
  ``InvalidCertificateError`` with one of these codes.
* ``TargetCertificateRules``: what one push target takes (key algorithms and sizes, signature
  algorithms, X.509 versions, size limits), each rule with the documentation page it mirrors. Every
  target declares its own in its provider package (``certpush/providers/<provider>/rules.py``) and
  the validator reads them through the ``TargetCatalog`` port, naming no provider: a push the target
  would refuse is REJECTED with the rule's code; an import only warns (it cannot know every future
  target). The rows of ``RULES`` for those codes say so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    REFUSE = "refuse"  # the import stores nothing (unless the rule is ``forceable`` and --force is given)
    WARN = "warn"  # the import stores it and says why a target or a browser may not like it
    REJECT = "reject"  # the validator rejects the push (REJECTED record with the code)


@dataclass(frozen=True)
class CertificateRule:
    code: str
    at_import: Outcome
    before_push: Outcome | None
    rule: str
    mirrors: str
    forceable: bool = False
    """``certificates import --force`` stores the material although this rule refuses it (to see how
    a push of it is rejected); the validator still rejects every push of it."""


# Size limits, in characters of PEM (= bytes: PEM is ASCII).
SECRET_MAX_BYTES = 65_536  # Secrets Manager CreateSecret: SecretString max 65,536 bytes (botocore model)
MAX_CHAIN_LEVELS = 11  # the strictest target's: Huawei Cloud ELB v3 CreateCertificate, chain up to 11 levels

NO_SAN_WARNING = "NO_SAN"

_TARGET_RULE = "a target's own rule ({what}), declared with its documentation page in the target's provider package"
_TARGET_MIRRORS = "certpush/providers/<provider>/rules.py: ACM ImportCertificate, CloudFront, Huawei Cloud WAF/ELB/CDN"

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
        InputRefusal.NO_PRIVATE_KEY, Outcome.REFUSE, None,
        "--key (or the PKCS#12 file) holds a private key (a certificate given as --key is named as such)",
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
        InputRefusal.INVALID_ID, Outcome.REFUSE, None,
        "a certificate id is 1-128 of A-Z a-z 0-9 . _ - and starts with a letter or digit",
        "certpush's own rule (models/domain.py CertificateId); every target name derived from it fits "
        "[A-Za-z0-9_.-]{1,64} (Huawei WAF name rule)",
    ),
    CertificateRule(
        RejectReason.INVALID_CERTIFICATE, Outcome.REFUSE, Outcome.REJECT, "the certificate is X.509",
        "ACM: 'The certificate must be ... X.509'; Huawei SCM.0006 / WAF.00011019",
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
        forceable=True,
    ),
    CertificateRule(
        RejectReason.CHAIN_INVALID, Outcome.REFUSE, Outcome.REJECT,
        "link by link: each certificate is signed by the next, names its subject as issuer, the next is "
        "a CA (basicConstraints cA, path length) and inside its validity; a self-signed root at the end is "
        "allowed, no root is required and no web-PKI profile (key identifiers, EKU) is imposed "
        f"(checked last); at most {MAX_CHAIN_LEVELS} levels. A link signed with an algorithm cryptography "
        "refuses to verify (SHA-1, MD5) cannot be checked and is named as such",
        "ACM 'certificate chain must be PEM ... in order'; Huawei ELB 'chain up to 11 levels'; neither "
        "requires AuthorityKeyIdentifier or a root",
        forceable=True,
    ),
    CertificateRule(
        RejectReason.KEY_ALGORITHM_NOT_SUPPORTED, Outcome.WARN, Outcome.REJECT,
        _TARGET_RULE.format(what="key algorithms: RSA, EC, ..."), _TARGET_MIRRORS,
    ),
    CertificateRule(
        RejectReason.KEY_SIZE_NOT_SUPPORTED, Outcome.WARN, Outcome.REJECT,
        _TARGET_RULE.format(what="RSA sizes, EC curves"), _TARGET_MIRRORS,
    ),
    CertificateRule(
        RejectReason.SIGNATURE_ALGORITHM_NOT_SUPPORTED, Outcome.WARN, Outcome.REJECT,
        _TARGET_RULE.format(what="how the certificate is signed"), _TARGET_MIRRORS,
    ),
    CertificateRule(
        RejectReason.CERTIFICATE_VERSION_NOT_SUPPORTED, Outcome.WARN, Outcome.REJECT,
        _TARGET_RULE.format(what="X.509 versions"), _TARGET_MIRRORS,
    ),
    CertificateRule(
        RejectReason.CERTIFICATE_TOO_LARGE, Outcome.WARN, Outcome.REJECT,
        _TARGET_RULE.format(what="characters of the certificate, or of the certificate with its chain"),
        _TARGET_MIRRORS,
    ),
    CertificateRule(
        RejectReason.PRIVATE_KEY_TOO_LARGE, Outcome.WARN, Outcome.REJECT,
        _TARGET_RULE.format(what="characters of the private key"), _TARGET_MIRRORS,
    ),
    CertificateRule(
        NO_SAN_WARNING, Outcome.WARN, None,
        "a certificate without subjectAltName imports with a warning: browsers ignore the common name",
        "ACM and Huawei Cloud accept it; RFC 6125 / CA/Browser Forum: clients match only the SANs",
    ),
)  # fmt: skip

RULES_BY_CODE: dict[str, CertificateRule] = {str(rule.code): rule for rule in RULES}


def refuses_at_import(code: str) -> bool:
    """Whether the import stores nothing when ``code``'s rule is broken (without --force)."""
    rule = RULES_BY_CODE.get(code)
    return rule is not None and rule.at_import is Outcome.REFUSE


def forceable(code: str) -> bool:
    """Whether ``certificates import --force`` stores material that ``code``'s rule refuses."""
    rule = RULES_BY_CODE.get(code)
    return rule is not None and rule.forceable


# -- what one target takes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MaterialShape:
    """What the target rules look at, read once from the material (``x509_checks.material_shape``)."""

    key_algorithm: str
    """RSA, EC, Ed25519, Ed448, DSA (or the key's class name for anything else)."""
    key_size: str | None
    """RSA / DSA: bits ("2048"); EC: the curve ("P-256", or its name: "secp256k1"); None for Ed25519/Ed448."""
    signature_algorithm: str
    """How the certificate is signed, as X.509 names it (``sha256WithRSAEncryption``, ``ecdsa-with-SHA384``...)."""
    signer_key_algorithm: str
    """The algorithm of the key that signed it (RSA, EC, Ed25519...): its CA's, or its own when self-signed."""
    x509_version: int
    certificate_chars: int
    certificate_with_chain_chars: int
    private_key_chars: int

    @property
    def key(self) -> str:
        return f"{self.key_algorithm} {self.key_size}" if self.key_size else self.key_algorithm


@dataclass(frozen=True)
class Source:
    """The documentation page a target rule mirrors."""

    title: str
    url: str


@dataclass(frozen=True)
class Violation:
    """A target rule the material breaks: what the target takes and what this material has."""

    code: RejectReason
    takes: str
    found: str
    source: Source

    def message(self, target: str) -> str:
        return f"{target} takes {self.takes}; {self.found} ({self.source.title})"


class TargetRule(ABC):
    """One thing a target takes, with the page it mirrors. ``check`` says how the material breaks
    it, or None; ``codes`` are the reasons it can give."""

    source: Source

    @property
    @abstractmethod
    def codes(self) -> frozenset[RejectReason]: ...

    @abstractmethod
    def check(self, shape: MaterialShape) -> Violation | None: ...


def _sizes(sizes: frozenset[str]) -> str:
    return "/".join(sorted(sizes, key=lambda s: (len(s), s)))


@dataclass(frozen=True)
class KeyTypes(TargetRule):
    """Key algorithms, and for each the sizes (RSA bits, EC curves) taken; None: any size."""

    allowed: Mapping[str, frozenset[str] | None]
    source: Source

    @property
    def codes(self) -> frozenset[RejectReason]:
        return frozenset({RejectReason.KEY_ALGORITHM_NOT_SUPPORTED, RejectReason.KEY_SIZE_NOT_SUPPORTED})

    def takes(self) -> str:
        parts = [f"{algorithm} {_sizes(sizes)}" if sizes else algorithm for algorithm, sizes in self.allowed.items()]
        return " or ".join(parts) + " keys"

    def check(self, shape: MaterialShape) -> Violation | None:
        if shape.key_algorithm not in self.allowed:
            code = RejectReason.KEY_ALGORITHM_NOT_SUPPORTED
        else:
            sizes = self.allowed[shape.key_algorithm]
            if sizes is None or shape.key_size in sizes:
                return None
            code = RejectReason.KEY_SIZE_NOT_SUPPORTED
        return Violation(code, self.takes(), f"this certificate's key is {shape.key}", self.source)


@dataclass(frozen=True)
class SignatureAlgorithms(TargetRule):
    """The algorithms of the keys a certificate may be signed with (its CA's, or its own when self-signed)."""

    signers: frozenset[str]
    source: Source

    @property
    def codes(self) -> frozenset[RejectReason]:
        return frozenset({RejectReason.SIGNATURE_ALGORITHM_NOT_SUPPORTED})

    def check(self, shape: MaterialShape) -> Violation | None:
        if shape.signer_key_algorithm in self.signers:
            return None
        return Violation(
            RejectReason.SIGNATURE_ALGORITHM_NOT_SUPPORTED,
            f"certificates signed with {' or '.join(sorted(self.signers))} keys",
            f"this one is signed with {shape.signer_key_algorithm} ({shape.signature_algorithm})",
            self.source,
        )


@dataclass(frozen=True)
class X509Versions(TargetRule):
    versions: frozenset[int]
    source: Source

    @property
    def codes(self) -> frozenset[RejectReason]:
        return frozenset({RejectReason.CERTIFICATE_VERSION_NOT_SUPPORTED})

    def check(self, shape: MaterialShape) -> Violation | None:
        if shape.x509_version in self.versions:
            return None
        versions = " or ".join(str(v) for v in sorted(self.versions))
        return Violation(
            RejectReason.CERTIFICATE_VERSION_NOT_SUPPORTED,
            f"X.509 version {versions} certificates",
            f"this one is version {shape.x509_version}",
            self.source,
        )


class Measured(StrEnum):
    """What a size limit counts, in characters of PEM."""

    CERTIFICATE = "certificate"
    CERTIFICATE_WITH_CHAIN = "certificate with its chain"
    PRIVATE_KEY = "private key"


_MEASURE = {
    Measured.CERTIFICATE: lambda shape: shape.certificate_chars,
    Measured.CERTIFICATE_WITH_CHAIN: lambda shape: shape.certificate_with_chain_chars,
    Measured.PRIVATE_KEY: lambda shape: shape.private_key_chars,
}


@dataclass(frozen=True)
class SizeLimit(TargetRule):
    measured: Measured
    limit: int
    source: Source

    @property
    def code(self) -> RejectReason:
        if self.measured is Measured.PRIVATE_KEY:
            return RejectReason.PRIVATE_KEY_TOO_LARGE
        return RejectReason.CERTIFICATE_TOO_LARGE

    @property
    def codes(self) -> frozenset[RejectReason]:
        return frozenset({self.code})

    def check(self, shape: MaterialShape) -> Violation | None:
        size = _MEASURE[self.measured](shape)
        if size <= self.limit:
            return None
        return Violation(
            self.code,
            f"a {self.measured} of at most {self.limit:,} characters",
            f"this one has {size:,}",
            self.source,
        )


@dataclass(frozen=True)
class TargetCertificateRules:
    """Everything one target takes, in the order the validator checks it (the first broken rule is
    the push's reason)."""

    rules: Sequence[TargetRule] = field(default_factory=tuple)

    def violations(self, shape: MaterialShape) -> list[Violation]:
        return [v for v in (rule.check(shape) for rule in self.rules) if v is not None]

    def first_violation(self, shape: MaterialShape) -> Violation | None:
        found = self.violations(shape)
        return found[0] if found else None

    @property
    def codes(self) -> frozenset[RejectReason]:
        return frozenset(code for rule in self.rules for code in rule.codes)
