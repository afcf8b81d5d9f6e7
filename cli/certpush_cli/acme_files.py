"""Finding a certificate in what an ACME client wrote, so that a deploy hook is one line.

Layouts (each client's documentation, as installed):
- certbot lineage, ``live/NAME/``: ``cert.pem``, ``chain.pem``, ``privkey.pem`` (and ``fullchain.pem``),
  symlinks into ``archive/`` (certbot docs, "Where are my certificates?");
- dehydrated, ``certs/NAME/``: the same three names, symlinks to ``cert-TIMESTAMP.pem`` etc.
  (dehydrated ``docs/hook_chain.md``, the ``deploy_cert`` arguments);
- lego, ``PATH/certificates/``: ``DOMAIN.crt`` (the certificate, bundled with its issuer unless
  ``--no-bundle``), ``DOMAIN.key``, ``DOMAIN.issuer.crt``; a ``*`` in the domain is written as
  ``_`` (lego ``cmd/certs_storage.go``, ``sanitizedDomain``).

The certificate id defaults to the lineage, directory or domain name, which stays the same across
renewals, made to fit the id rule by ``certificate_id_for``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from certpush.models.domain import CertificateMaterial
from certpush_cli.exit_codes import Failure
from certpush_cli.logic.certificate_import import default_certificate_id
from certpush_cli.logic.material_files import material_from_files
from certpush_cli.material_input import read_bytes
from certpush_cli.output import err

CERT, CHAIN, KEY = "cert.pem", "chain.pem", "privkey.pem"
LEGO_CERT, LEGO_KEY, LEGO_ISSUER = ".crt", ".key", ".issuer.crt"


class AcmeFilesError(Exception):
    """No usable certificate where the user pointed; the message says what was expected."""


@dataclass(frozen=True)
class AcmeFiles:
    layout: str
    name: str
    certificate: Path
    key: Path
    chain: Path | None

    @property
    def certificate_id(self) -> str:
        return certificate_id_for(self.name)


def certificate_id_for(name: str) -> str:
    """A valid certificate id from a lineage, directory or domain name: lowercase letters, digits
    and '-' (``*.example.com`` and lego's ``_.example.com`` -> ``wildcard-example-com``,
    ``example.com-0001`` -> ``example-com-0001``)."""
    if name.startswith("_."):
        name = "*." + name[2:]
    return default_certificate_id(name)


def _lineage(directory: Path) -> AcmeFiles | None:
    if not (directory / CERT).is_file() or not (directory / KEY).is_file():
        return None
    if directory.parent.name == "live" or (directory / "README").is_file():
        layout = "certbot"
    elif any(directory.glob("cert-*.pem")):
        layout = "dehydrated"
    else:
        layout = "cert.pem/privkey.pem"
    chain = directory / CHAIN
    return AcmeFiles(layout, directory.resolve().name, directory / CERT, directory / KEY,
                     chain if chain.is_file() else None)  # fmt: skip


def _lego_domains(directory: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(directory.glob(f"*{LEGO_CERT}")):
        stem = path.name[: -len(LEGO_CERT)]
        if not path.name.endswith(LEGO_ISSUER) and (directory / f"{stem}{LEGO_KEY}").is_file():
            found[stem] = path
    return found


def _lego(directory: Path, domain: str | None) -> AcmeFiles | None:
    certificates = directory / "certificates" if (directory / "certificates").is_dir() else directory
    domains = _lego_domains(certificates)
    if not domains:
        return None
    if domain is None:
        if len(domains) > 1:
            raise AcmeFilesError(
                f"{certificates} holds several lego certificates ({', '.join(domains)}); "
                'choose one with --domain (in a lego hook: --domain "$LEGO_CERT_DOMAIN")'
            )
        stem = next(iter(domains))
    else:
        stem = domain.replace("*", "_")
        if stem not in domains:
            raise AcmeFilesError(
                f"no lego certificate for {domain} in {certificates} (found: {', '.join(domains)}); "
                "--domain is the first domain given to lego"
            )
    issuer = certificates / f"{stem}{LEGO_ISSUER}"
    return AcmeFiles("lego", stem, domains[stem], certificates / f"{stem}{LEGO_KEY}",
                     issuer if issuer.is_file() else None)  # fmt: skip


def find_acme_files(directory: Path, domain: str | None = None, certbot_only: bool = False) -> AcmeFiles:
    """The certificate, key and chain files in ``directory``: a certbot lineage or dehydrated
    certificate directory (cert.pem, chain.pem, privkey.pem), or a lego directory (its ``--path``
    or the ``certificates`` folder in it; ``domain`` picks one when there are several)."""
    if not directory.is_dir():
        raise AcmeFilesError(f"{directory} is not a directory; give the folder that holds the certificate files")
    lineage = _lineage(directory)
    if lineage is not None:
        return lineage
    if certbot_only:
        raise AcmeFilesError(
            f"{directory} is not a certbot lineage (no {CERT} and {KEY}); "
            'give a folder of certbot\'s live/ directory, e.g. "$RENEWED_LINEAGE" in a deploy hook'
        )
    lego = _lego(directory, domain)
    if lego is not None:
        return lego
    raise AcmeFilesError(
        f"{directory} holds neither {CERT} + {KEY} (certbot, dehydrated) nor lego's "
        f"DOMAIN{LEGO_CERT} + DOMAIN{LEGO_KEY}; give the lineage or certificate folder"
    )


def read_material(found: AcmeFiles) -> CertificateMaterial:
    """The material of ``found``, read as ``--cert``/``--key``/``--chain`` are. lego's certificate
    file is bundled with its issuers unless ``--no-bundle``: the rest of the bundle is the chain,
    else ``DOMAIN.issuer.crt`` is. Raises ``InvalidCertificateError`` or ``Failure``."""
    certificate = read_bytes(found.certificate, "certificate")
    key = read_bytes(found.key, "key")
    chain = read_bytes(found.chain, "chain") if found.chain else None
    if found.layout != "lego":
        return material_from_files(certificate, key, chain)
    material = material_from_files(certificate, key, chain_from_cert=True)
    if material.chain_pem or chain is None:
        return material
    return material_from_files(certificate, key, chain)


def material_from_acme_client(
    directory: Path, domain: str | None, certbot_only: bool
) -> tuple[CertificateMaterial, str]:
    """``--from-dir`` / ``--from-certbot``: the material and the certificate id it defaults to."""
    try:
        found = find_acme_files(directory, domain, certbot_only)
    except AcmeFilesError as exc:
        raise Failure(str(exc)) from exc
    err.print(f"{found.layout} files of {found.name} in {found.certificate.parent}")
    return read_material(found), found.certificate_id
