"""``certpush retract``: delete from the targets what certpush pushed, when nothing uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from certpush_cli.exit_codes import ExitCode, Failure, checked_id, user_errors
from certpush_cli.options import HomeOption, StackOption, ToOption
from certpush_cli.output import out

if TYPE_CHECKING:
    from certpush_cli.logic.retract import RetractOutcome


def retract(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    to: ToOption,
    version: Annotated[int | None, typer.Option(help="Only this version (default: every version).", min=1)] = None,
    superseded: Annotated[
        bool, typer.Option("--superseded", help="Only the versions older than the newest one deployed there.")
    ] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Delete the certificate certpush pushed to these targets, where no listener or protected domain
    uses it; refuse, naming what uses it, elsewhere. The records become RETRACTED.

    Exit status: 0 when every target is clean, 1 when one was refused or failed (2: usage error,
    3: an id that is not in the inventory, 5: the stack or home cannot be reached)."""
    from certpush_cli.backends import backend
    from certpush_cli.targets import parse_targets

    with user_errors():
        if version is not None and superseded:
            raise Failure("--version and --superseded exclude each other; hint: give one of them", ExitCode.USAGE)
        checked_id(certificate_id)
        keys = [key for spec in parse_targets(to, [], []) for key in spec.target_keys()]
        with backend(stack, home) as chosen:
            if not chosen.records.list_current(certificate_id) and not chosen.store.list_versions(certificate_id):
                raise Failure(f"certificate {certificate_id} is not in the inventory; see certpush certificates list")
            outcomes = chosen.retractor().retract(certificate_id, keys, version=version, superseded=superseded)
    for outcome in outcomes:
        out.print(_line(outcome))
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(ExitCode.PUSH_FAILED)


def _line(outcome: RetractOutcome) -> str:
    versions = ",".join(f"v{v}" for v in outcome.versions) or "-"
    return f"{outcome.target!s:<32} {versions:<8} {outcome.status.value:<14} {outcome.message}"
