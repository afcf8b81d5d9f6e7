"""certpush: push issued TLS certificates to WAF, load balancer and CDN services in many regions.

Every command talks to one certpush, by one rule: --stack NAME (or CERTPUSH_STACK) means a certpush
stack on AWS (deployed with sam deploy, or the embedded AWS stack of certpush-dev); otherwise the
one-machine host in the home (--home DIR, CERTPUSH_HOME, or ~/.local/state/certpush), which
`certpush serve` runs. On the home, a command that pushes and finds no serve running does the pushes
itself before it returns."""

# Declaring the commands imports typer and this package's light modules only (help_texts, options,
# terminal): `certpush --help` starts in a fraction of a second. Each command imports what it uses
# (the runtime, pydantic, boto3, rich) when it runs. tests/unit/test_cli_start.py keeps it that way.

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from certpush_cli.help_texts import (
    ATTACH_DEFAULT_HELP,
    ATTACH_HELP,
    CERTIFICATE_ID_RULE,
    FROM_CERTBOT_HELP,
    FROM_DIR_HELP,
    TO_HELP,
)
from certpush_cli.options import HomeOption, StackOption
from certpush_cli.terminal import ExitCode, Failure, err, out
from certpush_cli.terminal import user_errors as _user_errors

if TYPE_CHECKING:
    from certpush.logic.issuances import Issuances
    from certpush.models.domain import CertificateMaterial, CertificateVersion, IssuanceProgress, PushRecord
    from certpush_cli.backends import Backend

VERSION = "0.1.0"  # certpush.__version__ (tests/unit/test_cli_start.py checks they agree)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"certpush {VERSION}")  # not the rich console: --version imports nothing heavy
        raise typer.Exit()


app = typer.Typer(
    name="certpush",
    help=__doc__,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """certpush: push issued TLS certificates to WAF, load balancer and CDN services in many regions."""


certificates_app = typer.Typer(help="Import and inspect certificates in the inventory.", no_args_is_help=True)
policies_app = typer.Typer(
    help="Push policies: a domain pattern and the targets its certificates go to automatically.",
    no_args_is_help=True,
)


def _register_subcommands() -> None:
    from certpush_cli.dashboard import dashboard, openapi
    from certpush_cli.dead_letters import dead_letters_app
    from certpush_cli.hooks import hooks_app
    from certpush_cli.host_commands import credentials_app, events, serve, simulators_app
    from certpush_cli.records_commands import records_app
    from certpush_cli.retract import retract

    app.add_typer(certificates_app, name="certificates")
    app.add_typer(policies_app, name="policies")
    app.add_typer(records_app, name="records")
    app.add_typer(dead_letters_app, name="dead-letters")
    app.add_typer(credentials_app, name="credentials")
    app.add_typer(simulators_app, name="simulators")
    app.add_typer(hooks_app, name="hooks")
    app.command("retract")(retract)
    app.command()(dashboard)
    app.command()(openapi)
    app.command()(serve)
    app.command()(events)


class StatusChoice(StrEnum):
    """A version's status on the command line (``CertificateStatus``), in any case."""

    HOSTED = "HOSTED"
    REVOKED = "REVOKED"
    DELETED = "DELETED"


def _checked_id(certificate_id: str) -> str:
    from certpush.models.domain import is_certificate_id

    if not is_certificate_id(certificate_id):
        shown = certificate_id if len(certificate_id) <= 40 else certificate_id[:40] + "…"
        raise Failure(f"{shown!r} is not a certificate id: {CERTIFICATE_ID_RULE}", ExitCode.REFUSED)
    return certificate_id


def _known(chosen: Backend, certificate_id: str, version: int | None = None) -> None:
    """Refuses (exit 3, nothing changed) a certificate id or version that is not in the inventory."""
    from certpush.errors import CertificateNotFoundError

    try:
        chosen.store.get_version(certificate_id, version)
    except CertificateNotFoundError as exc:
        raise Failure(f"{exc}; nothing was pushed (see certpush certificates list)") from exc


def refuse_unknown(chosen: Backend, certificate_id: str) -> None:
    """Records of an id that has none: refused (exit 3) unless the inventory knows the id."""
    if not chosen.store.list_versions(certificate_id):
        raise Failure(
            f"certificate {certificate_id} is not in the inventory and has no push records; "
            "see certpush certificates list"
        )


# -- output ------------------------------------------------------------------------------------------
def record_json(record: PushRecord) -> dict[str, Any]:
    from certpush.providers.registry import hint_for

    return {
        "certificate_id": record.certificate_id,
        "version": record.version,
        "provider": record.provider,
        "service": record.service,
        "region": record.region,
        "status": record.status.value,
        "reason": record.reason,
        "message": record.message,
        "hint": hint_for(record.provider, record.reason) if _needs_action(record) else None,
        "target_id": record.target_id,
        "console_url": record.console_url,
        "attempts": record.attempts,
        "duration_ms": record.duration_ms,
        "issuance_id": record.issuance_id,
        "forced": record.forced,
        "rollback": record.rollback,
        "upload_action": record.upload_action.value if record.upload_action else None,
        "attached": list(record.attached),
        "replaced_by": record.replaced_by,
        "updated_at": record.updated_at.isoformat(),
    }


_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "REJECTED": "yellow", "PENDING": "cyan", "IN_PROGRESS": "cyan",
          "RETRACTED": "magenta", "SUPERSEDED": "blue", "REPLACED": "dim", "ATTACH_FAILED": "dark_orange"}  # fmt: skip


_NOTHING_TO_DO = ("ALREADY_PUSHED", "PUSH_IN_PROGRESS")  # REJECTED, but nothing for the operator to do


def _needs_action(record: PushRecord) -> bool:
    return record.status.value in ("FAILED", "ATTACH_FAILED", "REJECTED")


def _status_text(record: PushRecord) -> str:
    """The status with what qualifies it: forced, a rollback, by which version it was replaced."""
    marks = [m for m, on in (("forced", record.forced), ("rollback", record.rollback)) if on]
    if record.replaced_by is not None:
        marks.append(f"by v{record.replaced_by}")
    return record.status.value + (f" ({', '.join(marks)})" if marks else "")


def _detail(record: PushRecord) -> str:
    """The console link of a success, else what happened (a SUPERSEDED push says which version is there)."""
    if record.status.value == "SUCCEEDED":
        return record.console_url or ""
    return f"{record.reason or ''}: {record.message or ''}".strip(": ")


def _hints(records: list[PushRecord]) -> list[str]:
    """One line per reason that needs the operator (``certpush.logic.hints``), in the order met."""
    from certpush.providers.registry import hint_for

    seen: dict[str, str] = {}
    for record in records:
        if record.reason in _NOTHING_TO_DO:
            continue
        hint = hint_for(record.provider, record.reason) if _needs_action(record) else None
        if hint and record.reason and record.reason not in seen:
            seen[record.reason] = hint
    return [f"hint: {reason}: {hint}" for reason, hint in seen.items()]


def print_records(
    records: list[PushRecord], title: str, as_json: bool = False, *, with_certificate: bool = False
) -> None:
    """The records, one line (or table row) each, then a hint per reason that needs the operator.
    ``with_certificate``: the records are of several certificates (each line names its own)."""
    if as_json:
        out.print_json(json.dumps([record_json(r) for r in records]))
        return
    if not records:
        out.print(f"{title}: no push records")
        return
    if not out.is_terminal:
        # one line per record, for logs and pipes: [certificate] provider service region status link-or-reason
        width = max(4, *(len(r.service) for r in records))
        named = max(len(r.certificate_id) for r in records)
        for r in records:
            certificate = f"{r.certificate_id:<{named}} " if with_certificate else ""
            service = r.service.ljust(width)
            out.print(
                f"{certificate}{r.provider:<12} {service} {r.region:<16} v{r.version:<3} {_status_text(r):<11} "
                f"{_detail(r)}"
            )
    else:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title)
        columns = ["provider", "service", "region", "version", "status", "attempts", "console link / reason"]
        for column in (["certificate"] if with_certificate else []) + [*columns, "updated (UTC)"]:
            table.add_column(column)
        for r in records:
            table.add_row(
                *([r.certificate_id] if with_certificate else []),
                r.provider, r.service, r.region, str(r.version),
                Text(_status_text(r), style=_STYLE[r.status.value]),
                str(r.attempts), _detail(r), r.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            )  # fmt: skip
        out.print(table)
    for line in _hints(records):
        out.print(line)


def _sort(records: list[PushRecord]) -> list[PushRecord]:
    return sorted(records, key=lambda r: (-r.version, r.provider, r.service, r.region))


# -- push --------------------------------------------------------------------------------------------
def _wait(issuances: Issuances, issuance_id: str, timeout: float) -> IssuanceProgress:
    """Shows a progress bar while the use case polls the issuance."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from certpush.logic.issuances import IssuanceTimeoutError

    progress_bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} final"),
        TimeElapsedColumn(), console=err.real(), transient=True,
    )  # fmt: skip
    with progress_bar:
        task = progress_bar.add_task("validating", total=None)

        def show(progress: IssuanceProgress) -> None:
            shown = ("SUCCEEDED", "FAILED", "REJECTED", "SUPERSEDED", "ATTACH_FAILED")
            counts = {s: list(progress.outcomes.values()).count(s) for s in shown}
            description = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) or "pushing"
            progress_bar.update(task, total=len(progress.targets), completed=len(progress.outcomes),
                                description=description)  # fmt: skip

        try:
            return issuances.wait(issuance_id, timeout, on_progress=show)
        except IssuanceTimeoutError as exc:
            raise Failure(str(exc), code=ExitCode.TIMEOUT) from exc


def _finish_push(
    chosen: Backend, certificate_id: str, issuance_id: str, wait: bool, timeout: float, as_json: bool
) -> None:
    """Waits for the issuance when asked; on a home, drives it here unless a serve will."""
    from certpush.logic.issuances import all_in_place

    issuances = chosen.issuances
    with chosen.settle(issuance_id, timeout, waiting=wait) as driving:
        if wait:
            progress = _wait(issuances, issuance_id, timeout)
        elif driving:
            err.print(f"no certpush serve runs on this {chosen.description}: pushing in this process")
        else:
            out.print(f"issuance {issuance_id} sent; follow it with: certpush records {certificate_id}")
            return
    if not wait:
        out.print(f"issuance {issuance_id} done; see: certpush records {certificate_id}")
        return
    found = issuances.records_of(progress)
    print_records(found, f"issuance {issuance_id}", as_json)
    if not all_in_place(found):
        raise typer.Exit(ExitCode.PUSH_FAILED)


@app.command()
def push(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id in the inventory.", metavar="CERTIFICATE_ID")],
    to: Annotated[list[str], typer.Option("--to", help=TO_HELP, metavar="PROVIDER:SERVICE=REGION,...")],
    version: Annotated[int | None, typer.Option(help="Version to push (default: the latest).", min=1)] = None,
    attach: Annotated[
        list[str] | None, typer.Option("--attach", help=ATTACH_HELP, metavar="PROVIDER:SERVICE=REF")
    ] = None,
    attach_default: Annotated[
        list[str] | None, typer.Option("--attach-default", help=ATTACH_DEFAULT_HELP, metavar="PROVIDER:SERVICE=REF")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until every target is final.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="With --wait: print the records as JSON.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Push again where this version is recorded as present (e.g. deleted).")
    ] = False,
    rollback: Annotated[
        bool,
        typer.Option(
            "--rollback",
            help="With --version: put this version in place where a newer one is (without it, such targets end "
            "SUPERSEDED: versions only move forward). Recorded on each push.",
        ),
    ] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Push a certificate to the given targets now ("Certificate Issued" with explicit targets).

    A target certpush does not know (provider, service, region, more than 10 regions) is a usage
    error: nothing is written.

    Exit status with --wait: 0 when every target SUCCEEDED (or already had this version, or holds a
    newer one: SUPERSEDED), 1 when any FAILED, ATTACH_FAILED or was REJECTED, 4 on timeout (2: usage
    error, 3: refused input or an id not in the inventory: nothing is emitted, 5: the stack cannot be
    reached)."""
    from certpush_cli.backends import backend
    from certpush_cli.targets import parse_targets

    with _user_errors():
        _checked_id(certificate_id)
        if rollback and version is None:
            raise Failure("--rollback needs --version N: the version to move the targets back to", ExitCode.USAGE)
        targets = parse_targets(to, attach or [], attach_default or [])
        with backend(stack, home) as chosen:
            _known(chosen, certificate_id, version)
            issuance_id = chosen.issuances.push(certificate_id, targets, version, force=force, rollback=rollback)
            total = sum(len(t.target_keys()) for t in targets)
            err.print(f"pushing {certificate_id} to {total} target(s) (issuance {issuance_id})")
            _finish_push(chosen, certificate_id, issuance_id, wait, timeout, as_json)


@app.command()
def replay(
    certificate_id: Annotated[
        str | None, typer.Argument(help="Certificate id (not with --events).", metavar="CERTIFICATE_ID")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: the latest that has records).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until every target is final.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 300,
    events: Annotated[
        bool, typer.Option("--events", help="Replay the archived 'Certificate Issued' events of a time window.")
    ] = False,
    since: Annotated[str | None, typer.Option(help="With --events: start of the window (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="With --events: end of the window (default: now).")] = None,
    stuck_after: Annotated[
        int,
        typer.Option(
            help="A PENDING or IN_PROGRESS push untouched this many seconds is stuck: end it FAILED (STUCK) and "
            "push it again too (the sweeper does the same on its schedule).",
            min=1,
        ),
    ] = 1800,
    drop_attach: Annotated[
        list[str] | None,
        typer.Option(
            "--drop-attach",
            help="An attachment reference (as `certpush records --json` shows it) to attach no more, e.g. a "
            "listener someone deleted (repeatable).",
            metavar="REF",
        ),
    ] = None,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Push again every target whose last push of this certificate version FAILED or is stuck, and attach
    again where it is ATTACH_FAILED (the certificate is there: only the attachments are retried); or, with
    --events --since T, send the archived issuance events of a window through the bus again: each
    issuance keeps the version and the outcomes it had (nothing final is pushed again) and a target
    retracted since is left alone; --wait prints what the replay did per issuance."""
    from certpush_cli.backends import backend

    with _user_errors():
        if events:
            if not stack:
                raise Failure(
                    "--events replays a stack's archived events (EventBridge); the one-machine host keeps no "
                    "archive; hint: certpush replay CERTIFICATE_ID, or name the stack with --stack",
                    ExitCode.USAGE,
                )
            _replay_events(since, until, wait, timeout, stack)
            return
        if certificate_id is None:
            raise Failure("name a CERTIFICATE_ID, or pass --events --since T to replay archived events", ExitCode.USAGE)
        _checked_id(certificate_id)
        with backend(stack, home) as chosen:
            stuck_since = datetime.now(UTC) - timedelta(seconds=stuck_after)
            plan, issuance_id = chosen.issuances.replay(certificate_id, version, stuck_since=stuck_since,
                                                        drop_attach=drop_attach or [])  # fmt: skip
            if issuance_id is None:
                out.print(
                    f"{certificate_id} version {plan.version}: no FAILED, ATTACH_FAILED or stuck targets to replay"
                )
                return
            err.print(f"replaying {len(plan.failed)} failed target(s) of {certificate_id} v{plan.version} "
                      f"(issuance {issuance_id})")  # fmt: skip
            _finish_push(chosen, certificate_id, issuance_id, wait, timeout, as_json=False)


def _replay_events(since: str | None, until: str | None, wait: bool, timeout: float, stack: str) -> None:
    from certpush.adapters.aws_clients import aws_client
    from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
    from certpush.adapters.dynamodb_replays import DynamoDBReplayLog
    from certpush_cli.backends import StackBackend
    from certpush_cli.event_replay import ReplayTimeoutError, follow_replay, parse_time, start_event_replay

    if since is None:
        raise Failure("--events needs --since T (ISO 8601), e.g. --since 2026-11-27T00:00:00Z", ExitCode.USAGE)
    window_start = parse_time(since, "--since")
    name, end = start_event_replay(stack, window_start, parse_time(until, "--until") if until else None)
    err.print(f"replaying 'Certificate Issued' events from {since} to {end.isoformat()} (replay {name})")
    if not wait:
        out.print(f"replay {name} started; see what it did with: certpush replay --events --since {since} --wait")
        return
    chosen = StackBackend(stack)
    table = chosen.settings.records_table
    try:
        report = follow_replay(
            name, window_start, end, timeout, events=aws_client("events"), replays=DynamoDBReplayLog(table),
            records=chosen.records, pushes=DynamoDBPushQuery(table), on_line=out.print,
        )  # fmt: skip
    except ReplayTimeoutError as exc:
        raise Failure(str(exc), ExitCode.TIMEOUT) from exc
    out.print(f"replay {name}: {report.state}; {report.summary()}")
    if not report.all_in_place:
        raise typer.Exit(ExitCode.PUSH_FAILED)


@app.command()
def history(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    limit: Annotated[int, typer.Option(help="How many records.", min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """The latest push records of a certificate (10 by default), newest first."""
    from certpush_cli.backends import backend

    with _user_errors():
        _checked_id(certificate_id)
        with backend(stack, home) as chosen:
            found = chosen.records.history(certificate_id, limit)
            if not found:
                refuse_unknown(chosen, certificate_id)
        print_records(found, f"latest {limit} push records of {certificate_id}", as_json)


@app.command()
def failed(
    limit: Annotated[int, typer.Option(help="How many records.", min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Pushes whose current state is FAILED or ATTACH_FAILED, across all certificates, newest first,
    each with its certificate id (what `certpush replay ID` needs)."""
    from certpush.models.domain import PushStatus
    from certpush_cli.backends import backend

    with _user_errors(), backend(stack, home) as chosen:
        repository = chosen.records
        found = [
            r for status in (PushStatus.FAILED, PushStatus.ATTACH_FAILED) for r in repository.by_status(status, limit)
        ]
        newest = sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]
        print_records(newest, "failed pushes", as_json, with_certificate=True)
        for certificate_id in dict.fromkeys(r.certificate_id for r in newest):
            if not as_json:
                out.print(f"to push again: certpush replay {certificate_id}")


# -- certificates ------------------------------------------------------------------------------------
def _names(sans: list[str]) -> str:
    return f"SANs {', '.join(sans)}" if sans else "no SANs"


@certificates_app.command("import")
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

    with _user_errors():
        if certificate_id is not None:
            _checked_id(certificate_id)
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
    from certpush.logic.certificate_import import import_certificate
    from certpush.logic.certificate_rules import forceable
    from certpush.models.domain import CertificateStatus
    from certpush.models.events import CertificateIssuedDetail
    from certpush.providers.registry import REGISTRY

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
            f"({_names(stored.sans)}), valid until {stored.not_after:%Y-%m-%d}, "
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
    from certpush.logic.issuances import all_in_place
    from certpush.logic.policies import targets_from_policies

    targets = targets_from_policies(chosen.policies.list_policies(), stored)
    if not targets:
        err.print("no push policy matches it: nothing to push")
        return
    total = sum(len(t.target_keys()) for t in targets)
    err.print(f"pushing {stored.certificate_id} v{stored.version} to {total} target(s) (issuance {issuance_id})")
    with chosen.settle(issuance_id, timeout, waiting=True):
        progress = _wait(chosen.issuances, issuance_id, timeout)
    found = chosen.issuances.records_of(progress)
    if as_json:  # stdout holds the version's JSON alone
        err.print(f"issuance {issuance_id}: " + ", ".join(f"{r.target} {r.status.value}" for r in found))
    else:
        print_records(found, f"issuance {issuance_id}")
    if not all_in_place(found):
        raise typer.Exit(ExitCode.PUSH_FAILED)


@certificates_app.command("list")
def certificates_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Every certificate in the inventory (latest version); one that expires within the warning
    threshold (ExpiryWarningDays on a stack, expiry_warning_days on a home), or has expired, is
    flagged EXPIRING or EXPIRED."""
    from certpush.logic.expiry import days_left
    from certpush_cli.backends import backend

    with _user_errors(), backend(stack, home) as chosen:
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


@certificates_app.command("show")
def certificates_show(
    certificate_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of the versions.")] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Every version of a certificate (metadata only: no key material)."""
    from certpush_cli.backends import backend

    with _user_errors():
        _checked_id(certificate_id)
        with backend(stack, home) as chosen:
            versions = chosen.store.list_versions(certificate_id)
        if not versions:
            raise Failure(f"certificate {certificate_id} is not in the inventory; see certpush certificates list")
        if as_json:
            out.print_json(json.dumps([v.model_dump(mode="json") for v in versions]))
            return
        for v in versions:
            out.print(
                f"{v.certificate_id} v{v.version} {v.status.value}: {v.common_name} ({_names(v.sans)}); "
                f"{v.not_before:%Y-%m-%d} to {v.not_after:%Y-%m-%d}; {v.key_type}; issuer {v.issuer}; "
                f"serial {v.serial_number}; sha256 {v.fingerprint_sha256}"
            )


@certificates_app.command("set-status")
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
    with _user_errors():
        _checked_id(certificate_id)
        with backend(stack, home) as opened:
            chosen = opened.store.get_version(certificate_id, version)
            opened.store.set_status(certificate_id, chosen.version, chosen_status)
        out.print(f"{certificate_id} version {chosen.version} is now {chosen_status.value}")
        if chosen_status is not CertificateStatus.HOSTED and opened.retired_material_note:
            out.print(
                f"{opened.retired_material_note}; until then `certpush certificates set-status "
                f"{certificate_id} HOSTED --version {chosen.version}` restores it"
            )


# -- policies ----------------------------------------------------------------------------------------
@policies_app.command("add")
def policies_add(
    name: Annotated[str, typer.Argument(help="Policy name: lowercase letters, digits and '-'.")],
    pattern: Annotated[str, typer.Option(help="Domain pattern, e.g. '*.example.com' or 'shop.example.com'.")],
    to: Annotated[list[str], typer.Option("--to", help=TO_HELP, metavar="PROVIDER:SERVICE=REGION,...")],
    attach: Annotated[
        list[str] | None, typer.Option("--attach", help=ATTACH_HELP, metavar="PROVIDER:SERVICE=REF")
    ] = None,
    attach_default: Annotated[
        list[str] | None, typer.Option("--attach-default", help=ATTACH_DEFAULT_HELP, metavar="PROVIDER:SERVICE=REF")
    ] = None,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Add or replace a policy: certificates whose names match PATTERN are pushed to these targets.
    A target certpush does not know is a usage error: nothing is stored."""
    from pydantic import ValidationError

    from certpush.models.domain import PushPolicy
    from certpush_cli.backends import backend
    from certpush_cli.targets import parse_targets
    from certpush_cli.terminal import validation_summary

    with _user_errors():
        targets = parse_targets(to, attach or [], attach_default or [])
        try:
            policy = PushPolicy(name=name, pattern=pattern, targets=targets)
        except ValidationError as exc:
            raise Failure(f"invalid policy: {validation_summary(exc)}; see certpush policies add --help") from exc
        with backend(stack, home) as chosen:
            chosen.policies.put_policy(policy)
        out.print(f"policy {name}: {pattern} -> " + "; ".join(
            f"{t.provider}:{t.service}={','.join(t.regions)}" for t in policy.targets))  # fmt: skip


@policies_app.command("list")
def policies_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Every push policy."""
    from certpush_cli.backends import backend

    with _user_errors(), backend(stack, home) as chosen:
        found = chosen.policies.list_policies()
        if as_json:
            out.print_json(json.dumps([p.model_dump(mode="json") for p in found]))
            return
        for p in found:
            targets = "; ".join(f"{t.provider}:{t.service}={','.join(t.regions)}" for t in p.targets)
            out.print(f"{p.name:<24} {p.pattern:<32} {targets}")


@policies_app.command("remove")
def policies_remove(name: Annotated[str, typer.Argument()], stack: StackOption = None, home: HomeOption = None) -> None:
    """Remove a policy."""
    from certpush_cli.backends import backend

    with _user_errors(), backend(stack, home) as chosen:
        if not chosen.policies.delete_policy(name):
            raise Failure(f"no policy named {name}")
        out.print(f"policy {name} removed")


@app.command("sample-certificate")
def sample_certificate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the PEM files.")],
    domain: Annotated[str, typer.Option(help="Common name.")] = "demo.example.com",
    san: Annotated[list[str] | None, typer.Option("--san", help="Subject alternative names (repeatable).")] = None,
    days: Annotated[int, typer.Option(help="Validity in days.")] = 90,
) -> None:
    """Generate a sample certificate, its chain and its key (a throw-away CA: for trying certpush out)."""
    from certpush_cli.sample_certificates import make_certificate

    with _user_errors():
        paths = make_certificate(domain, sans=san or [domain, f"www.{domain}"], days=days).write(out_dir)
    for kind, path in paths.items():
        out.print(f"{kind}: {path}")


@app.command()
def schemas(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the JSON Schemas.")] = Path("events/schemas"),
) -> None:
    """Write the JSON Schemas of the events certpush reads and emits."""
    from certpush.models.schemas import write_schemas

    with _user_errors():
        written = write_schemas(out_dir)
    for path in written:
        out.print(str(path))


_register_subcommands()


def main() -> None:
    import logging

    # warnings of the domain (a transient error, a retry) as one line on stderr; `serve` logs more
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="certpush: %(message)s")
    from certpush.log_hygiene import pin_library_loggers

    pin_library_loggers()  # before any client: no request or response body in a log (certpush.log_hygiene)
    app(prog_name="certpush")


if __name__ == "__main__":
    main()
