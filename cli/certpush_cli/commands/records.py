"""The push records: `certpush records ID` (the current state of every push of a certificate), `certpush
records forget ID --to ...` (the records of targets that hold nothing: typos an event named, targets
given up), `certpush history ID` (the latest records) and `certpush failed` (across certificates)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from certpush_cli.exit_codes import checked_id, refuse_unknown, user_errors
from certpush_cli.options import HomeOption, StackOption
from certpush_cli.output import out, print_records, sort_records


class _ShowByDefault(TyperGroup):
    """``certpush records ID ...`` is ``certpush records show ID ...``: a first word that is no
    subcommand (nor --help) names a certificate."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return list(super().parse_args(ctx, args))


app = typer.Typer(
    cls=_ShowByDefault,
    help="Push records: `certpush records ID` shows a certificate's; `certpush records forget ID --to ...` "
    "removes those of targets that hold nothing.",
    no_args_is_help=True,
)


@app.command("show")
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

    with user_errors():
        checked_id(certificate_id)
        with backend(stack, home) as chosen:
            current = chosen.records.list_current(certificate_id)
            if not current:
                refuse_unknown(chosen, certificate_id)
        found = sort_records([r for r in current if version in (None, r.version)])
        print_records(found, f"push records of {certificate_id}", as_json)


@app.command("forget")
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
    from certpush_cli.targets import parse_targets

    with user_errors():
        checked_id(certificate_id)
        keys = [key for spec in parse_targets(to, [], [], check=False) for key in spec.target_keys()]
        with backend(stack, home) as chosen:
            if not chosen.records.list_current(certificate_id):
                refuse_unknown(chosen, certificate_id)
            removed = {str(key): chosen.records.forget(certificate_id, key) for key in keys}
    for target, count in removed.items():
        out.print(f"{target:<40} {f'{count} record(s) forgotten' if count else 'no records: nothing to forget'}")


def history(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.", metavar="CERTIFICATE_ID")],
    limit: Annotated[int, typer.Option(help="How many records.", min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of records.")] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """The latest push records of a certificate (10 by default), newest first."""
    from certpush_cli.backends import backend

    with user_errors():
        checked_id(certificate_id)
        with backend(stack, home) as chosen:
            found = chosen.records.history(certificate_id, limit)
            if not found:
                refuse_unknown(chosen, certificate_id)
        print_records(found, f"latest {limit} push records of {certificate_id}", as_json)


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

    with user_errors(), backend(stack, home) as chosen:
        repository = chosen.records
        found = [
            r for status in (PushStatus.FAILED, PushStatus.ATTACH_FAILED) for r in repository.by_status(status, limit)
        ]
        newest = sorted(found, key=lambda r: r.updated_at, reverse=True)[:limit]
        print_records(newest, "failed pushes", as_json, with_certificate=True)
        for certificate_id in dict.fromkeys(r.certificate_id for r in newest):
            if not as_json:
                out.print(f"to push again: certpush replay {certificate_id}")
