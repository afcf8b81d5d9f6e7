"""`certpush records ID` (the current state of every push of a certificate) and `certpush records
forget ID --to ...` (the records of targets that hold nothing: typos an event named, targets given up)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from certpush_cli.options import HomeOption, StackOption
from certpush_cli.terminal import out, user_errors


class _ShowByDefault(TyperGroup):
    """``certpush records ID ...`` is ``certpush records show ID ...``: a first word that is no
    subcommand (nor --help) names a certificate."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return list(super().parse_args(ctx, args))


records_app = typer.Typer(
    cls=_ShowByDefault,
    help="Push records: `certpush records ID` shows a certificate's; `certpush records forget ID --to ...` "
    "removes those of targets that hold nothing.",
    no_args_is_help=True,
)


@records_app.command("show")
def records(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    version: Annotated[int | None, typer.Option(help="Only this version.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Current state of every push of a certificate: one record per version, service and region (the
    default of `certpush records`)."""
    from certpush_cli.backends import backend
    from certpush_cli.main import _checked_id, _sort, print_records, refuse_unknown

    with user_errors():
        _checked_id(certificate_id)
        with backend(stack, home) as chosen:
            current = chosen.records.list_current(certificate_id)
            if not current:
                refuse_unknown(chosen, certificate_id)
        found = _sort([r for r in current if version in (None, r.version)])
        print_records(found, f"push records of {certificate_id}", as_json)


@records_app.command("forget")
def forget(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    to: Annotated[
        list[str],
        typer.Option(
            "--to",
            help="The targets to forget, as PROVIDER:SERVICE=REGION[,REGION...] (any name, also one certpush does "
            "not know: that is what this is for). Repeatable.",
            metavar="PROVIDER:SERVICE=REGION,...",
        ),
    ],
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Remove what the records say of these targets of a certificate: the current record of every
    version, their history and the target's binding. Only records of nothing: never what is in a
    target, and refused (exit 3, nothing removed) for a target whose push is in flight or that holds
    a certificate certpush pushed (`certpush retract` it first). For the REJECTED records a typo in an
    event left (an unknown provider, service or region), and targets given up for good."""
    from certpush_cli.backends import backend
    from certpush_cli.main import _checked_id, refuse_unknown
    from certpush_cli.targets import parse_targets

    with user_errors():
        _checked_id(certificate_id)
        keys = [key for spec in parse_targets(to, [], [], check=False) for key in spec.target_keys()]
        with backend(stack, home) as chosen:
            if not chosen.records.list_current(certificate_id):
                refuse_unknown(chosen, certificate_id)
            removed = {str(key): chosen.records.forget(certificate_id, key) for key in keys}
    for target, count in removed.items():
        out.print(f"{target:<40} {f'{count} record(s) forgotten' if count else 'no records: nothing to forget'}")
