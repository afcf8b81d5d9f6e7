"""The files of `certpush certificates import`: PEM / DER (--cert, --key, --chain) or PKCS#12
(--pkcs12, password from CERTPUSH_PKCS12_PASSWORD or a prompt), read into certificate material.
The reading itself, and its refusals, are in ``certpush_cli.logic.material_files``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from certpush.models.domain import CertificateMaterial
from certpush_cli.exit_codes import ExitCode, Failure
from certpush_cli.logic.material_files import MAX_FILE_BYTES, chain_pem_of, material_from_files, material_from_pkcs12

PKCS12_PASSWORD_ENV = "CERTPUSH_PKCS12_PASSWORD"  # noqa: S105 (the variable's name, not a password)


def read_bytes(path: Path, option: str) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise Failure(
            f"cannot read the {option} file {path}: {exc.strerror or exc}; check the path", ExitCode.REFUSED
        ) from exc
    return data


def _pkcs12_password() -> str | None:
    if PKCS12_PASSWORD_ENV in os.environ:
        return os.environ[PKCS12_PASSWORD_ENV]
    if sys.stdin.isatty():
        return str(typer.prompt("PKCS#12 password (empty for none)", default="", hide_input=True, show_default=False))
    return None  # no terminal: try no password and the empty one


def material_from_options(
    cert: Path | None, key: Path | None, chain: Path | None, chain_from_cert: bool, pkcs12: Path | None
) -> CertificateMaterial:
    """Raises ``InvalidCertificateError`` (with an ``InputRefusal`` reason) or ``Failure``."""
    if pkcs12 is not None:
        if cert is not None or key is not None:
            raise Failure("give either --pkcs12 or --cert and --key, not both", ExitCode.USAGE)
        data = read_bytes(pkcs12, "--pkcs12")
        material = material_from_pkcs12(data, _pkcs12_password())
        if chain is None:
            return material
        extra = chain_pem_of(read_bytes(chain, "--chain"))
        return material.model_copy(update={"chain_pem": material.chain_pem + extra})
    if cert is None or key is None:
        raise Failure("give --cert and --key (or --pkcs12 FILE)", ExitCode.USAGE)
    return material_from_files(
        read_bytes(cert, "--cert"),
        read_bytes(key, "--key"),
        read_bytes(chain, "--chain") if chain is not None else None,
        chain_from_cert,
    )
