"""`certpush push` (a certificate to targets now) and `certpush replay` (again where a push failed, or
the archived events of a time window), and how a command waits for an issuance."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from certpush_cli.exit_codes import ExitCode, Failure, checked_id, known, user_errors
from certpush_cli.options import AttachDefaultOption, AttachOption, HomeOption, StackOption, ToOption
from certpush_cli.output import err, out, print_records

if TYPE_CHECKING:
    from certpush.logic.issuances import Issuances
    from certpush.models.domain import IssuanceProgress
    from certpush_cli.backends import Backend


def wait_for_issuance(issuances: Issuances, issuance_id: str, timeout: float) -> IssuanceProgress:
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


def finish_push(
    chosen: Backend, certificate_id: str, issuance_id: str, wait: bool, timeout: float, as_json: bool
) -> None:
    """Waits for the issuance when asked; on a home, drives it here unless a serve will."""
    from certpush_cli.exit_codes import all_in_place

    issuances = chosen.issuances
    with chosen.settle(issuance_id, timeout, waiting=wait) as driving:
        if wait:
            progress = wait_for_issuance(issuances, issuance_id, timeout)
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


def push(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id in the inventory.", metavar="CERTIFICATE_ID")],
    to: ToOption,
    version: Annotated[int | None, typer.Option(help="Version to push (default: the latest).", min=1)] = None,
    attach: AttachOption = None,
    attach_default: AttachDefaultOption = None,
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

    with user_errors():
        checked_id(certificate_id)
        if rollback and version is None:
            raise Failure("--rollback needs --version N: the version to move the targets back to", ExitCode.USAGE)
        targets = parse_targets(to, attach or [], attach_default or [])
        with backend(stack, home) as chosen:
            known(chosen, certificate_id, version)
            issuance_id = chosen.issuances.push(certificate_id, targets, version, force=force, rollback=rollback)
            total = sum(len(t.target_keys()) for t in targets)
            err.print(f"pushing {certificate_id} to {total} target(s) (issuance {issuance_id})")
            finish_push(chosen, certificate_id, issuance_id, wait, timeout, as_json)


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

    with user_errors():
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
        checked_id(certificate_id)
        with backend(stack, home) as chosen:
            stuck_since = chosen.clock.now() - timedelta(seconds=stuck_after)
            plan, issuance_id = chosen.issuances.replay(certificate_id, version, stuck_since=stuck_since,
                                                        drop_attach=drop_attach or [])  # fmt: skip
            if issuance_id is None:
                out.print(
                    f"{certificate_id} version {plan.version}: no FAILED, ATTACH_FAILED or stuck targets to replay"
                )
                return
            err.print(f"replaying {len(plan.failed)} failed target(s) of {certificate_id} v{plan.version} "
                      f"(issuance {issuance_id})")  # fmt: skip
            finish_push(chosen, certificate_id, issuance_id, wait, timeout, as_json=False)


def _replay_events(since: str | None, until: str | None, wait: bool, timeout: float, stack: str) -> None:
    from certpush_cli.backends import StackBackend
    from certpush_cli.event_replay import ReplayTimeoutError, parse_time, start_event_replay

    if since is None:
        raise Failure("--events needs --since T (ISO 8601), e.g. --since 2026-11-27T00:00:00Z", ExitCode.USAGE)
    window_start = parse_time(since, "--since")
    name, end = start_event_replay(stack, window_start, parse_time(until, "--until") if until else None)
    err.print(f"replaying 'Certificate Issued' events from {since} to {end.isoformat()} (replay {name})")
    if not wait:
        out.print(f"replay {name} started; see what it did with: certpush replay --events --since {since} --wait")
        return
    try:
        report = StackBackend(stack).follow_event_replay(name, window_start, end, timeout, on_line=out.print)
    except ReplayTimeoutError as exc:
        raise Failure(str(exc), ExitCode.TIMEOUT) from exc
    out.print(f"replay {name}: {report.state}; {report.summary()}")
    if not report.all_in_place:
        raise typer.Exit(ExitCode.PUSH_FAILED)
