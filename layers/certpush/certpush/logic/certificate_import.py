"""Importing certificates into the inventory: inspect, check, store, announce."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from certpush.errors import InvalidCertificateError
from certpush.logic.certificate_rules import NO_SAN_WARNING, TARGET_SIZE_WARNING
from certpush.logic.material_files import check_sizes
from certpush.logic.x509_checks import (
    check_chain,
    check_key_matches,
    check_validity,
    inspect_certificate,
    load_certificate,
    load_chain,
)
from certpush.models.domain import CertificateMaterial, CertificateStatus, CertificateVersion, RejectReason
from certpush.ports import CertificateStore, Clock

# problems that make a certificate unusable anywhere; the rest (expired, not yet valid) are warnings
_BLOCKING = {RejectReason.KEY_MISMATCH, RejectReason.CHAIN_INVALID, RejectReason.INVALID_CERTIFICATE}


@dataclass
class ImportResult:
    version: CertificateVersion
    warnings: list[str] = field(default_factory=list)


def default_certificate_id(common_name: str) -> str:
    """``*.example.com`` -> ``wildcard-example-com``."""
    name = common_name.lower().replace("*.", "wildcard.", 1)
    return re.sub(r"[^a-z0-9.-]+", "-", name).replace(".", "-").strip("-")[:128] or "certificate"


def import_certificate(
    store: CertificateStore,
    clock: Clock,
    material: CertificateMaterial,
    certificate_id: str | None = None,
    force: bool = False,
) -> ImportResult:
    """Checks the material (``certificate_rules``: dates, key, chain, sizes) and stores it as a new version.

    A key that does not match or a chain that does not verify refuses the import unless ``force``
    (useful to see how a push of broken material is rejected); dates, a missing subjectAltName and
    a target's size limit only warn. Material too large for a secret is always refused."""
    now: datetime = clock.now()
    facts = inspect_certificate(material.certificate_pem)
    certificate = load_certificate(material.certificate_pem)
    size_warnings = check_sizes(material)
    problems: list[InvalidCertificateError] = []
    for check in (
        lambda: check_validity(certificate, now),
        lambda: check_key_matches(certificate, material.private_key_pem.get_secret_value()),
        lambda: check_chain(certificate, load_chain(material.chain_pem), now),
    ):
        try:
            check()
        except InvalidCertificateError as exc:
            problems.append(exc)
    blocking = [p for p in problems if p.reason in _BLOCKING]
    if blocking and not force:
        raise blocking[0]
    metadata = CertificateVersion(
        certificate_id=certificate_id or default_certificate_id(facts.common_name),
        version=1,
        status=CertificateStatus.HOSTED,
        **asdict(facts),
        secret_id="",
        imported_at=now,
    )
    warnings = [f"{p.reason}: {p}" for p in problems]
    if not facts.sans:
        warnings.append(
            f"{NO_SAN_WARNING}: the certificate has no subjectAltName; browsers ignore its common name "
            f"'{facts.common_name}' and will refuse it"
        )
    warnings += [f"{TARGET_SIZE_WARNING}: {w}" for w in size_warnings]
    stored = store.put_version(metadata, material)
    return ImportResult(version=stored, warnings=warnings)
