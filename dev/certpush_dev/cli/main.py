"""certpush: push issued TLS certificates to WAF and load balancer services in many regions.

Every command works against a deployed stack (--stack, found through its CloudFormation outputs)
and against the embedded stack (certpush local up, then eval "$(certpush local env)")."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.adapters.eventbridge_sns import EventBridgePublisher
from certpush.adapters.policy_store import DynamoDBPolicyStore
from certpush.errors import CertpushError, InvalidCertificateError
from certpush.logic.certificate_import import import_certificate
from certpush.logic.policies import merge_targets
from certpush.logic.sweeper import end_stuck
from certpush.models.domain import (
    CertificateMaterial,
    CertificateStatus,
    IssuanceProgress,
    PushPolicy,
    PushRecord,
    PushStatus,
    TargetKey,
    TargetSpec,
)
from certpush.models.events import CertificateIssuedDetail
from certpush.settings import Settings
from certpush.wiring import SystemClock, certificate_store
from certpush_dev.cli.dead_letters import dead_letters_app
from certpush_dev.cli.local import local_app
from certpush_dev.cli.stack import settings_for_stack
from certpush_dev.cli.targets import attach_default_help, attach_help, parse_targets, to_help
from certpush_dev.cli.terminal import StackOption, err, out

app = typer.Typer(
    name="certpush",
    help=__doc__,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
certificates_app = typer.Typer(help="Import and inspect certificates in the inventory.", no_args_is_help=True)
policies_app = typer.Typer(
    help="Push policies: a domain pattern and the targets its certificates go to automatically.",
    no_args_is_help=True,
)
app.add_typer(certificates_app, name="certificates")
app.add_typer(policies_app, name="policies")
app.add_typer(local_app, name="local")
app.add_typer(dead_letters_app, name="dead-letters")


TO_HELP = to_help()
ATTACH_HELP = attach_help()
ATTACH_DEFAULT_HELP = attach_default_help()
_FINAL_OK = {PushStatus.SUCCEEDED.value}


class Failure(Exception):
    """A message for the user and an exit code; no traceback."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except Failure as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(exc.code) from exc
    except CertpushError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from exc


def _settings(stack: str) -> Settings:
    return settings_for_stack(stack)


# -- output ------------------------------------------------------------------------------------------
def record_json(record: PushRecord) -> dict[str, Any]:
    return {
        "certificate_id": record.certificate_id,
        "version": record.version,
        "provider": record.provider,
        "service": record.service,
        "region": record.region,
        "status": record.status.value,
        "reason": record.reason,
        "message": record.message,
        "target_id": record.target_id,
        "console_url": record.console_url,
        "attempts": record.attempts,
        "duration_ms": record.duration_ms,
        "issuance_id": record.issuance_id,
        "updated_at": record.updated_at.isoformat(),
    }


_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "REJECTED": "yellow", "PENDING": "cyan", "IN_PROGRESS": "cyan"}


def print_records(records: list[PushRecord], title: str, as_json: bool = False) -> None:
    if as_json:
        out.print_json(json.dumps([record_json(r) for r in records]))
        return
    if not records:
        out.print(f"{title}: no push records")
        return
    if not out.is_terminal:
        # one line per record, for logs and pipes: provider service region status link-or-reason
        for r in records:
            detail = (
                r.console_url if r.status is PushStatus.SUCCEEDED else f"{r.reason or ''} {r.message or ''}".strip()
            )
            out.print(f"{r.provider:<12} {r.service:<4} {r.region:<16} v{r.version:<3} {r.status.value:<11} {detail}")
        return
    table = Table(title=title)
    for column in (
        "provider",
        "service",
        "region",
        "version",
        "status",
        "attempts",
        "console link / reason",
        "updated",
    ):
        table.add_column(column)
    for r in records:
        detail = r.console_url or "" if r.status is PushStatus.SUCCEEDED else f"{r.reason or ''}: {r.message or ''}"
        table.add_row(
            r.provider, r.service, r.region, str(r.version), f"[{_STYLE[r.status.value]}]{r.status.value}[/]",
            str(r.attempts), detail, r.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    out.print(table)


def _sort(records: list[PushRecord]) -> list[PushRecord]:
    return sorted(records, key=lambda r: (-r.version, r.provider, r.service, r.region))


# -- push --------------------------------------------------------------------------------------------
def _issue(settings: Settings, detail: CertificateIssuedDetail) -> None:
    EventBridgePublisher(settings.event_bus_name).certificate_issued(detail)


def wait_for_issuance(
    repository: DynamoDBRecordsRepository, issuance_id: str, timeout: float, interval: float = 0.25
) -> IssuanceProgress:
    """Shows progress until every target of the issuance is final. Polls the issuance's state."""
    deadline = time.monotonic() + timeout
    progress_bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} final"),
        TimeElapsedColumn(), console=err, transient=True,
    )  # fmt: skip
    with progress_bar:
        task = progress_bar.add_task("validating", total=None)
        while True:
            progress = repository.get_issuance(issuance_id)
            if progress is not None:
                counts = {s: list(progress.outcomes.values()).count(s) for s in ("SUCCEEDED", "FAILED", "REJECTED")}
                description = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) or "pushing"
                progress_bar.update(task, total=len(progress.targets), completed=len(progress.outcomes),
                                    description=description)  # fmt: skip
                if progress.done:
                    return progress
            if time.monotonic() > deadline:
                state = (
                    "no record of it yet (is the validator running?)"
                    if progress is None
                    else (f"{len(progress.outcomes)}/{len(progress.targets)} targets final")
                )
                raise Failure(f"timed out after {timeout:.0f}s waiting for issuance {issuance_id}: {state}", code=2)
            time.sleep(interval)


def issuance_records(repository: DynamoDBRecordsRepository, progress: IssuanceProgress) -> list[PushRecord]:
    """The record of each target as this issuance left it (a rejected repeat lives in the history)."""
    history = [
        r for r in repository.history(progress.certificate_id, limit=100) if r.issuance_id == progress.issuance_id
    ]
    records: list[PushRecord] = []
    for target in progress.targets:
        provider, service, region = target.split(":", 2)
        key = TargetKey(provider=provider, service=service, region=region)
        current = repository.get(progress.certificate_id, progress.version, key)
        if current is not None and current.issuance_id == progress.issuance_id:
            records.append(current)
            continue
        mine = next((r for r in history if r.target == key), None)
        if mine is not None:
            records.append(mine)
    return _sort(records)


def _finish_push(
    settings: Settings, certificate_id: str, issuance_id: str, wait: bool, timeout: float, as_json: bool
) -> None:
    if not wait:
        out.print(f"issuance {issuance_id} sent; follow it with: certpush records {certificate_id}")
        return
    repository = DynamoDBRecordsRepository(settings.records_table)
    progress = wait_for_issuance(repository, issuance_id, timeout)
    records = issuance_records(repository, progress)
    print_records(records, f"issuance {issuance_id}", as_json)
    ok = all(r.status.value in _FINAL_OK or r.reason == "ALREADY_PUSHED" for r in records)
    if not ok:
        raise typer.Exit(1)


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
    stack: StackOption = "certpush",
) -> None:
    """Push a certificate to the given targets now ("Certificate Issued" with explicit targets).

    Exit status with --wait: 0 when every target SUCCEEDED (or already had this version),
    1 when any FAILED or was REJECTED, 2 on timeout."""
    with _user_errors():
        targets = parse_targets(to, attach or [], attach_default or [])
        settings = _settings(stack)
        issuance_id = str(uuid.uuid4())
        _issue(settings, CertificateIssuedDetail(
            certificate_id=certificate_id, version=version, targets=targets, issuance_id=issuance_id))  # fmt: skip
        total = sum(len(t.target_keys()) for t in targets)
        err.print(f"pushing {certificate_id} to {total} target(s) (issuance {issuance_id})")
        _finish_push(settings, certificate_id, issuance_id, wait, timeout, as_json)


@app.command()
def replay(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    version: Annotated[int | None, typer.Option(help="Version (default: the latest that has records).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until every target is final.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 300,
    stuck_after: Annotated[
        int,
        typer.Option(
            help="A PENDING or IN_PROGRESS push untouched this many seconds is stuck: end it FAILED (STUCK) and "
            "push it again too (the sweeper does the same on its schedule).",
            min=1,
        ),
    ] = 1800,
    stack: StackOption = "certpush",
) -> None:
    """Push again every target whose last push of this certificate version FAILED, or is stuck."""
    with _user_errors():
        settings = _settings(stack)
        repository = DynamoDBRecordsRepository(settings.records_table)
        current = repository.list_current(certificate_id)
        if not current:
            raise Failure(f"no push records for {certificate_id}")
        chosen = version or max(r.version for r in current)
        now = SystemClock().now()
        for record in current:
            idle = (now - record.updated_at).total_seconds()
            if record.version == chosen and not record.status.is_final and idle >= stuck_after:
                end_stuck(repository, record, now, "ended by certpush replay")
        current = repository.list_current(certificate_id)
        failed = [r for r in current if r.version == chosen and r.status is PushStatus.FAILED]
        if not failed:
            out.print(f"{certificate_id} version {chosen}: no FAILED or stuck targets to replay")
            return
        specs = merge_targets(
            TargetSpec(provider=r.provider, service=r.service, regions=[r.region], options=r.options) for r in failed
        )
        issuance_id = str(uuid.uuid4())
        _issue(settings, CertificateIssuedDetail(certificate_id=certificate_id, version=chosen, targets=specs,
                                                 issuance_id=issuance_id, replay=True))  # fmt: skip
        err.print(f"replaying {len(failed)} failed target(s) of {certificate_id} v{chosen} (issuance {issuance_id})")
        _finish_push(settings, certificate_id, issuance_id, wait, timeout, as_json=False)


@app.command()
def records(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    version: Annotated[int | None, typer.Option(help="Only this version.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = "certpush",
) -> None:
    """Current state of every push of a certificate: one record per version, service and region."""
    with _user_errors():
        repository = DynamoDBRecordsRepository(_settings(stack).records_table)
        found = _sort([r for r in repository.list_current(certificate_id) if version in (None, r.version)])
        print_records(found, f"push records of {certificate_id}", as_json)


@app.command()
def history(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    limit: Annotated[int, typer.Option(help="How many records.", min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = "certpush",
) -> None:
    """The latest push records of a certificate (10 by default), newest first."""
    with _user_errors():
        found = DynamoDBRecordsRepository(_settings(stack).records_table).history(certificate_id, limit)
        print_records(found, f"latest {limit} push records of {certificate_id}", as_json)


@app.command()
def failed(
    limit: Annotated[int, typer.Option(help="How many records.", min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = "certpush",
) -> None:
    """Pushes whose current state is FAILED, across all certificates, newest first."""
    with _user_errors():
        found = DynamoDBRecordsRepository(_settings(stack).records_table).by_status(PushStatus.FAILED, limit)
        print_records(found, "failed pushes", as_json)


# -- certificates ------------------------------------------------------------------------------------
def _read(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise Failure(f"cannot read the {what} file {path}: {exc.strerror}") from exc


@certificates_app.command("import")
def certificates_import(
    cert: Annotated[Path, typer.Option("--cert", help="PEM certificate file.")],
    key: Annotated[Path, typer.Option("--key", help="PEM private key file (unencrypted).")],
    chain: Annotated[Path | None, typer.Option("--chain", help="PEM chain file (intermediates).")] = None,
    certificate_id: Annotated[
        str | None, typer.Option("--id", help="Certificate id (default: from the common name). Same id: new version.")
    ] = None,
    push_after: Annotated[
        bool, typer.Option("--push/--no-push", help="Emit 'Certificate Issued' so push policies push it.")
    ] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Store it even if the key does not match or the chain does not verify.")
    ] = False,
    stack: StackOption = "certpush",
) -> None:
    """Import a certificate and its private key. The key goes only to Secrets Manager (KMS-encrypted)."""
    with _user_errors():
        material = CertificateMaterial(
            certificate_pem=_read(cert, "certificate"),
            chain_pem=_read(chain, "chain") if chain else "",
            private_key_pem=SecretStr(_read(key, "key")),
        )
        settings = _settings(stack)
        try:
            result = import_certificate(certificate_store(settings), SystemClock(), material, certificate_id, force)
        except InvalidCertificateError as exc:
            raise Failure(f"{exc} ({exc.reason}); nothing was imported. Use --force to store it anyway.") from exc
        stored = result.version
        for warning in result.warnings:
            err.print(f"warning: {warning}")
        out.print(
            f"imported {stored.certificate_id} version {stored.version}: {stored.common_name} "
            f"(SANs {', '.join(stored.sans)}), valid until {stored.not_after:%Y-%m-%d}, "
            f"sha256 {stored.fingerprint_sha256[:16]}…"
        )
        if push_after:
            _issue(settings, CertificateIssuedDetail(certificate_id=stored.certificate_id, version=stored.version))
            err.print("emitted 'Certificate Issued': push policies that match it will push it")


@certificates_app.command("list")
def certificates_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, stack: StackOption = "certpush"
) -> None:
    """Every certificate in the inventory (latest version)."""
    with _user_errors():
        found = certificate_store(_settings(stack)).list_certificates()
        if as_json:
            out.print_json(json.dumps([c.model_dump(mode="json") for c in found]))
            return
        for c in found:
            out.print(f"{c.certificate_id:<32} v{c.version:<3} {c.status.value:<8} {c.common_name:<32} "
                      f"until {c.not_after:%Y-%m-%d}")  # fmt: skip


@certificates_app.command("show")
def certificates_show(certificate_id: Annotated[str, typer.Argument()], stack: StackOption = "certpush") -> None:
    """Every version of a certificate, as JSON (metadata only: no key material)."""
    with _user_errors():
        versions = certificate_store(_settings(stack)).list_versions(certificate_id)
        if not versions:
            raise Failure(f"certificate {certificate_id} is not in the inventory")
        out.print_json(json.dumps([v.model_dump(mode="json") for v in versions]))


@certificates_app.command("set-status")
def certificates_set_status(
    certificate_id: Annotated[str, typer.Argument()],
    status: Annotated[CertificateStatus, typer.Argument(help="HOSTED, REVOKED or DELETED.")],
    version: Annotated[int | None, typer.Option(help="Version (default: the latest).")] = None,
    stack: StackOption = "certpush",
) -> None:
    """Change a version's status. Only HOSTED certificates are pushed."""
    with _user_errors():
        store = certificate_store(_settings(stack))
        chosen = store.get_version(certificate_id, version)
        store.set_status(certificate_id, chosen.version, status)
        out.print(f"{certificate_id} version {chosen.version} is now {status.value}")


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
    stack: StackOption = "certpush",
) -> None:
    """Add or replace a policy: certificates whose names match PATTERN are pushed to these targets."""
    with _user_errors():
        try:
            policy = PushPolicy(
                name=name, pattern=pattern, targets=parse_targets(to, attach or [], attach_default or [])
            )
        except ValueError as exc:
            raise Failure(f"invalid policy: {exc}") from exc
        DynamoDBPolicyStore(_settings(stack).inventory_table).put_policy(policy)
        out.print(f"policy {name}: {pattern} -> " + "; ".join(
            f"{t.provider}:{t.service}={','.join(t.regions)}" for t in policy.targets))  # fmt: skip


@policies_app.command("list")
def policies_list(as_json: Annotated[bool, typer.Option("--json")] = False, stack: StackOption = "certpush") -> None:
    """Every push policy."""
    with _user_errors():
        found = DynamoDBPolicyStore(_settings(stack).inventory_table).list_policies()
        if as_json:
            out.print_json(json.dumps([p.model_dump(mode="json") for p in found]))
            return
        for p in found:
            targets = "; ".join(f"{t.provider}:{t.service}={','.join(t.regions)}" for t in p.targets)
            out.print(f"{p.name:<24} {p.pattern:<32} {targets}")


@policies_app.command("remove")
def policies_remove(name: Annotated[str, typer.Argument()], stack: StackOption = "certpush") -> None:
    """Remove a policy."""
    with _user_errors():
        if not DynamoDBPolicyStore(_settings(stack).inventory_table).delete_policy(name):
            raise Failure(f"no policy named {name}")
        out.print(f"policy {name} removed")


@app.command()
def schemas(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the JSON Schemas.")] = Path("events/schemas"),
) -> None:
    """Write the JSON Schemas of the events certpush reads and emits."""
    from certpush.models.schemas import write_schemas

    for path in write_schemas(out_dir):
        out.print(str(path))


def main() -> None:
    app(prog_name="certpush")


if __name__ == "__main__":
    main()
