"""Importing certificates into the inventory: inspect, check, store, announce."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from certpush.errors import AlreadyImportedError, CertificateNotFoundError, InvalidCertificateError
from certpush.logic.certificate_rules import NO_SAN_WARNING, MaterialShape, forceable, refuses_at_import
from certpush.logic.x509_checks import (
    check_chain,
    check_key_matches,
    check_validity,
    inspect_certificate,
    load_certificate,
    load_chain,
    material_shape,
)
from certpush.models.domain import CertificateMaterial, CertificateStatus, CertificateVersion
from certpush.ports import CertificateStore, Clock, TargetCatalog
from certpush_cli.logic.fingerprints import chain_fingerprint, key_fingerprint
from certpush_cli.logic.material_files import check_secret_size

NO_CHAIN_WARNING = "NO_CHAIN"


@dataclass
class ImportResult:
    """The version the material is stored as; ``created`` is False when the latest version already
    held exactly this material (nothing was stored)."""

    version: CertificateVersion
    warnings: list[str] = field(default_factory=list)
    created: bool = True


def default_certificate_id(common_name: str) -> str:
    """``*.example.com`` -> ``wildcard-example-com``."""
    name = common_name.lower().replace("*.", "wildcard.", 1)
    return re.sub(r"[^a-z0-9.-]+", "-", name).replace(".", "-").strip("-")[:128] or "certificate"


def _latest(store: CertificateStore, certificate_id: str) -> CertificateVersion | None:
    try:
        return store.get_version(certificate_id)
    except CertificateNotFoundError:
        return None


def same_material(stored: CertificateVersion, candidate: CertificateVersion) -> bool:
    """Same certificate, same key and same chain. A version stored before key and chain digests
    were kept never matches: importing again then makes a new version, as it always did."""
    return (
        stored.key_fingerprint_sha256 is not None
        and stored.fingerprint_sha256 == candidate.fingerprint_sha256
        and stored.key_fingerprint_sha256 == candidate.key_fingerprint_sha256
        and stored.chain_fingerprint_sha256 == candidate.chain_fingerprint_sha256
    )


def target_warnings(catalog: TargetCatalog, shape: MaterialShape) -> list[str]:
    """One line per target rule the material breaks ("CODE: target takes ...; found ..."): pushes
    there will be REJECTED with that code."""
    warnings = []
    for provider in catalog.providers():
        for service in catalog.services(provider):
            target = catalog.find(provider, service)
            for violation in target.rules.violations(shape) if target is not None else []:
                warnings.append(
                    f"{violation.code}: {violation.message(f'{provider}:{service}')}; pushes there will be rejected"
                )
    return warnings


def import_certificate(
    store: CertificateStore,
    clock: Clock,
    material: CertificateMaterial,
    certificate_id: str | None = None,
    force: bool = False,
    *,
    catalog: TargetCatalog,
) -> ImportResult:
    """Checks the material (``certificate_rules``: dates, key, chain, sizes) and stores it as a new version.

    Material equal to the latest version's (certificate, key and chain) stores nothing: the result
    names that version with ``created`` False, so a hook that runs again changes nothing.

    What ``certificate_rules.RULES`` refuses at import stores nothing, unless the rule is
    ``forceable`` and ``force`` is given (useful to see how a push of broken material is rejected);
    what it warns about (dates, a missing subjectAltName) is stored with a warning, and so is what a
    target of the ``catalog`` does not take (its own rules: it cannot know future targets). Material
    too large for a secret is always refused."""
    now: datetime = clock.now()
    facts = inspect_certificate(material.certificate_pem)
    metadata = CertificateVersion(
        certificate_id=certificate_id or default_certificate_id(facts.common_name),
        version=1,
        status=CertificateStatus.HOSTED,
        **asdict(facts),
        secret_id="",
        imported_at=now,
        key_fingerprint_sha256=key_fingerprint(material.private_key_pem.get_secret_value()),
        chain_fingerprint_sha256=chain_fingerprint(material.chain_pem),
    )
    latest = _latest(store, metadata.certificate_id)
    if latest is not None and same_material(latest, metadata):
        return ImportResult(version=latest, created=False)
    certificate = load_certificate(material.certificate_pem)
    check_secret_size(material)
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
    blocking = [p for p in problems if refuses_at_import(p.reason) and not (force and forceable(p.reason))]
    if blocking:
        raise blocking[0]
    warnings = [f"{p.reason}: {p}" for p in problems]
    if not facts.sans:
        warnings.append(
            f"{NO_SAN_WARNING}: the certificate has no subjectAltName; browsers ignore its common name "
            f"'{facts.common_name}' and will refuse it"
        )
    if not material.chain_pem.strip() and certificate.issuer != certificate.subject:
        warnings.append(
            f"{NO_CHAIN_WARNING}: no chain was given: clients that do not hold its issuer's intermediate "
            "certificate will refuse it; import it with --chain (or a fullchain file with --chain-from-cert)"
        )
    warnings += target_warnings(catalog, material_shape(material))
    try:
        stored = store.put_version(metadata, material)
    except AlreadyImportedError as exc:
        # an identical import stored it a moment ago (two hooks at once): that version is this material
        return ImportResult(version=store.get_version(metadata.certificate_id, exc.version), created=False)
    return ImportResult(version=stored, warnings=warnings)
