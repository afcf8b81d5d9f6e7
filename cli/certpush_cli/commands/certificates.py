"""`certpush certificates import|list|show|set-status`: the inventory of certificates and their versions."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from certpush_cli.exit_codes import ExitCode, Failure, checked_id, user_errors
from certpush_cli.help_texts import CERTIFICATE_ID_RULE, FROM_CERTBOT_HELP, FROM_DIR_HELP
from certpush_cli.options import HomeOption, StackOption
from certpush_cli.output import err, names, out, print_records

if TYPE_CHECKING:
    from certpush.models.domain import CertificateMaterial, CertificateVersion
    from certpush_cli.backends import Backend

app = typer.Typer(help="Import and inspect certificates in the inventory.", no_args_is_help=True)


class StatusChoice(StrEnum):
    """A version's status on the command line (``CertificateStatus``), in any case."""

    HOSTED = "HOSTED"
    REVOKED = "REVOKED"
    DELETED = "DELETED"


@app.command("import")
def certificates_import(
    cert: Annotated[
        Path | None, typer.Option("--cert", help="The certificate: one PEM or DER certificate (not a fullchain).")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="Its private key, PEM or DER, unencrypted.")] = None,
    chain: Annotated[
        Path | None, typer.Option("--chain", help="PEM or DER chain: intermediates in order, the root optional.")
    ] = None,
    chain_from_cert: Annotated[
        bool, typer.Option("--chain-from-cert", help="--cert is a fullchain file: the first is the certificate.")
    ] = False,
    pkcs12: Annotated[
        Path | None,
        typer.Option(
            "--pkcs12",
            help="PKCS#12 (.p12/.pfx) file instead of --cert/--key; password: CERTPUSH_PKCS12_PASSWORD or a prompt.",
        ),
    ] = None,
    from_dir: Annotated[Path | None, typer.Option("--from-dir", help=FROM_DIR_HELP, metavar="DIR")] = None,
    from_certbot: Annotated[
        Path | None, typer.Option("--from-certbot", help=FROM_CERTBOT_HELP, metavar="LINEAGE_DIR")
    ] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="With --from-dir on a lego folder: which certificate.")
    ] = None,
    certificate_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help=f"Certificate id ({CERTIFICATE_ID_RULE}; default: the lineage or domain name with --from-dir "
            "or --from-certbot, else from the common name). Same id: new version.",
        ),
    ] = None,
    push_after: Annotated[
        bool, typer.Option("--push/--no-push", help="Emit 'Certificate Issued' so push policies push it.")
    ] = True,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait until every target the push policies send it to is final; exit 1 when one FAILED, "
            "ATTACH_FAILED or was REJECTED (what a deploy hook needs to report a failed push).",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Store it even if the key does not match or the chain does not verify.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored version and warnings as JSON.")] = False,
    timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for the pushes at most (--wait; on a home with no certpush serve, always)."),
    ] = 300,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Import a certificate and its private key. The key is stored encrypted: in Secrets Manager (KMS) on
    a stack, sealed with AES-GCM under the home's key file on one machine.

    Importing what the latest version already holds (same certificate, key and chain) changes
    nothing and pushes nothing: deploy hooks may run again.

    Exit status: 0 imported (or already imported; with --wait: and every target in place), 1 with
    --wait: a push FAILED, ATTACH_FAILED or was REJECTED, 2 usage error, 3 refused (nothing stored), 4
    --wait timed out, 5 the stack or home cannot be reached."""
    from certpush.errors import InvalidCertificateError
    from certpush_cli.acme_files import material_from_acme_client
    from certpush_cli.backends import backend
    from certpush_cli.material_input import material_from_options

    with user_errors():
        if certificate_id is not None:
            checked_id(certificate_id)
        if wait and not push_after:
            raise Failure("--wait waits for the pushes that --no-push leaves out; give one of them", ExitCode.USAGE)
        directory = from_dir or from_certbot
        try:
            if directory is not None:
                if cert or key or chain or chain_from_cert or pkcs12 or (from_dir and from_certbot):
                    raise Failure("give one of --cert/--key, --pkcs12, --from-dir or --from-certbot", ExitCode.USAGE)
                material, default_id = material_from_acme_client(directory, domain, from_certbot is not None)
                certificate_id = certificate_id or default_id
            else:
                material = material_from_options(cert, key, chain, chain_from_cert, pkcs12)
        except InvalidCertificateError as exc:
            raise Failure(f"{exc} ({exc.reason})") from exc
        with backend(stack, home) as chosen:
            _import(chosen, material, certificate_id, force, push_after, as_json, timeout, wait)


def _import(
    chosen: Backend,
    material: CertificateMaterial,
    certificate_id: str | None,
    force: bool,
    push_after: bool,
    as_json: bool,
    timeout: float,
    wait: bool = False,
) -> None:
    import uuid

    from certpush.errors import InvalidCertificateError
    from certpush.logic.certificate_rules import forceable
    from certpush.models.domain import CertificateStatus
    from certpush.models.events import CertificateIssuedDetail
    from certpush.providers.registry import REGISTRY
    from certpush_cli.logic.certificate_import import import_certificate

    issuance_id: str | None = None
    try:
        # on a home, the version and its "Certificate Issued" event commit together: a crash cannot
        # leave a version that no event announces (a re-run would find it imported and push nothing)
        with chosen.unit_of_work():
            result = import_certificate(chosen.store, chosen.clock, material, certificate_id, force, catalog=REGISTRY)
            if push_after and result.created:
                # the issuance id travels in the event: a redelivered or replayed event keeps it
                issuance_id = str(uuid.uuid4())
                chosen.publisher.certificate_issued(
                    CertificateIssuedDetail(
                        certificate_id=result.version.certificate_id,
                        version=result.version.version,
                        issuance_id=issuance_id,
                    )
                )
    except InvalidCertificateError as exc:
        hint = " Use --force to store it anyway." if forceable(exc.reason) else ""
        raise Failure(f"{exc} ({exc.reason}); nothing was imported.{hint}") from exc
    stored = result.version
    for warning in result.warnings:
        err.print(f"warning: {warning}")
    if as_json:
        out.print_json(
            json.dumps({**stored.model_dump(mode="json"), "warnings": result.warnings, "created": result.created})
        )
    elif not result.created:
        again = (
            "to push it again: certpush push / certpush replay"
            if stored.status is CertificateStatus.HOSTED
            else f"to host it again: certpush certificates set-status {stored.certificate_id} HOSTED"
        )
        out.print(
            f"{stored.certificate_id}: already imported as version {stored.version} ({stored.status.value}), "
            f"nothing changed; {again}"
        )
    else:
        out.print(
            f"imported {stored.certificate_id} version {stored.version}: {stored.common_name} "
            f"({names(stored.sans)}), valid until {stored.not_after:%Y-%m-%d}, "
            f"sha256 {stored.fingerprint_sha256[:16]}…"
        )
    if issuance_id is None:
        return
    if wait:
        _wait_for_import(chosen, stored, issuance_id, timeout, as_json)
        return
    err.print("emitted 'Certificate Issued': push policies that match it will push it")
    with chosen.settle(issuance_id, timeout, waiting=False) as driving:
        if driving:
            err.print(f"no certpush serve runs on this {chosen.description}: pushing in this process")
    if driving:
        progress = chosen.records.get_issuance(issuance_id)
        if progress is None:
            err.print("no push policy matches it: nothing pushed")
        elif as_json:  # stdout holds the version's JSON alone
            err.print(f"issuance {issuance_id}: {len(progress.outcomes)}/{len(progress.targets)} targets final")
        else:
            print_records(chosen.issuances.records_of(progress), f"issuance {issuance_id}")


def _wait_for_import(
    chosen: Backend, stored: CertificateVersion, issuance_id: str, timeout: float, as_json: bool
) -> None:
    """``import --wait``: the pushes the policies make of the new version, until each is final."""
    from certpush.logic.policies import targets_from_policies
    from certpush_cli.commands.push import wait_for_issuance
    from certpush_cli.exit_codes import all_in_place

    targets = targets_from_policies(chosen.policies.list_policies(), stored)
    if not targets:
        err.print("no push policy matches it: nothing to push")
        return
    total = sum(len(t.target_keys()) for t in targets)
    err.print(f"pushing {stored.certificate_id} v{stored.version} to {total} target(s) (issuance {issuance_id})")
    with chosen.settle(issuance_id, timeout, waiting=True):
        progress = wait_for_issuance(chosen.issuances, issuance_id, timeout)
    found = chosen.issuances.records_of(progress)
    if as_json:  # stdout holds the version's JSON alone
        err.print(f"issuance {issuance_id}: " + ", ".join(f"{r.target} {r.status.value}" for r in found))
    else:
        print_records(found, f"issuance {issuance_id}")
    if not all_in_place(found):
        raise typer.Exit(ExitCode.PUSH_FAILED)


@app.command("list")
def certificates_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Every certificate in the inventory (latest version); one that expires within the warning
    threshold (ExpiryWarningDays on a stack, expiry_warning_days on a home), or has expired, is
    flagged EXPIRING or EXPIRED."""
    from certpush.logic.expiry import days_left
    from certpush_cli.backends import backend

    with user_errors(), backend(stack, home) as chosen:
        found = chosen.store.list_certificates()
        warning_days = chosen.expiry_warning_days
        now = chosen.clock.now()
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        **c.model_dump(mode="json"),
                        "days_left": days_left(c.not_after, now),
                        "expiring": days_left(c.not_after, now) < warning_days,
                    }
                    for c in found
                ]
            )
        )
        return
    for c in found:
        left = days_left(c.not_after, now)
        flag = "EXPIRED" if left < 0 else f"EXPIRING in {left} days" if left < warning_days else ""
        out.print(f"{c.certificate_id:<32} v{c.version:<3} {c.status.value:<8} {c.common_name:<32} "
                  f"until {c.not_after:%Y-%m-%d} {flag}".rstrip())  # fmt: skip


@app.command("show")
def certificates_show(
    certificate_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of the versions.")] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Every version of a certificate (metadata only: no key material)."""
    from certpush_cli.backends import backend

    with user_errors():
        checked_id(certificate_id)
        with backend(stack, home) as chosen:
            versions = chosen.store.list_versions(certificate_id)
        if not versions:
            raise Failure(f"certificate {certificate_id} is not in the inventory; see certpush certificates list")
        if as_json:
            out.print_json(json.dumps([v.model_dump(mode="json") for v in versions]))
            return
        for v in versions:
            out.print(
                f"{v.certificate_id} v{v.version} {v.status.value}: {v.common_name} ({names(v.sans)}); "
                f"{v.not_before:%Y-%m-%d} to {v.not_after:%Y-%m-%d}; {v.key_type}; issuer {v.issuer}; "
                f"serial {v.serial_number}; sha256 {v.fingerprint_sha256}"
            )


@app.command("set-status")
def certificates_set_status(
    certificate_id: Annotated[str, typer.Argument()],
    status: Annotated[
        StatusChoice, typer.Argument(help="HOSTED, REVOKED or DELETED (any case).", case_sensitive=False)
    ],
    version: Annotated[int | None, typer.Option(help="Version (default: the latest).")] = None,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Change a version's status. Only HOSTED certificates are pushed."""
    from certpush.models.domain import CertificateStatus
    from certpush_cli.backends import backend

    chosen_status = CertificateStatus(status.value)
    with user_errors():
        checked_id(certificate_id)
        with backend(stack, home) as opened:
            chosen = opened.store.get_version(certificate_id, version)
            opened.store.set_status(certificate_id, chosen.version, chosen_status)
        out.print(f"{certificate_id} version {chosen.version} is now {chosen_status.value}")
        if chosen_status is not CertificateStatus.HOSTED and opened.retired_material_note:
            out.print(
                f"{opened.retired_material_note}; until then `certpush certificates set-status "
                f"{certificate_id} HOSTED --version {chosen.version}` restores it"
            )
