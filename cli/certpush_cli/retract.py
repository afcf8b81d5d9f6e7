"""``certpush retract``: delete from the targets what certpush pushed, when nothing uses it."""

from __future__ import annotations

from typing import Annotated

import typer

from certpush.errors import CertpushError
from certpush.logic.retract import RetractOutcome
from certpush_cli.backends import HomeOption, StackOption, backend
from certpush_cli.targets import parse_targets, to_help
from certpush_cli.terminal import err, out


def retract(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    to: Annotated[list[str], typer.Option("--to", help=to_help(), metavar="PROVIDER:SERVICE=REGION,...")],
    version: Annotated[int | None, typer.Option(help="Only this version (default: every version).", min=1)] = None,
    superseded: Annotated[
        bool, typer.Option("--superseded", help="Only the versions older than the newest one deployed there.")
    ] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Delete the certificate certpush pushed to these targets, where no listener or protected domain
    uses it; refuse, naming what uses it, elsewhere. The records become RETRACTED.

    Exit status: 0 when every target is clean, 1 when one was refused or failed."""
    if version is not None and superseded:
        err.print("error: --version and --superseded exclude each other; hint: give one of them")
        raise typer.Exit(2)
    try:
        keys = [key for spec in parse_targets(to, [], []) for key in spec.target_keys()]
        with backend(stack, home) as chosen:
            outcomes = chosen.retractor().retract(certificate_id, keys, version=version, superseded=superseded)
    except CertpushError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    for outcome in outcomes:
        out.print(_line(outcome))
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


def _line(outcome: RetractOutcome) -> str:
    versions = ",".join(f"v{v}" for v in outcome.versions) or "-"
    return f"{outcome.target!s:<32} {versions:<8} {outcome.status.value:<14} {outcome.message}"
