"""certpush: push issued TLS certificates to WAF, load balancer and CDN services in many regions.

Every command talks to one certpush, by one rule: --stack NAME (or CERTPUSH_STACK) means a certpush
stack on AWS (deployed with sam deploy, or the embedded AWS stack of certpush-dev); otherwise the
one-machine host in the home (--home DIR, CERTPUSH_HOME, or ~/.local/state/certpush), which
`certpush serve` runs. On the home, a command that pushes and finds no serve running does the pushes
itself before it returns."""

# The command line: which command is where. Each command group is a module of certpush_cli.commands;
# what every command shares is in certpush_cli.exit_codes (the one exit-code policy: docs/operations.md
# "Exit codes") and certpush_cli.output (stdout/stderr, records as lines, a table or JSON). Declaring
# the commands imports typer and this package's light modules only: `certpush --help` starts in a
# fraction of a second. Each command imports what it uses (the runtime, pydantic, boto3, rich) when
# it runs, and builds it through the composition root (certpush_cli.backends). tests/unit/test_cli_start.py
# keeps it that way.

from __future__ import annotations

import sys
from typing import Annotated

import typer

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


def _register_commands() -> None:
    """Every command and command group, in the order `certpush --help` lists them."""
    from certpush_cli.commands import (
        certificates,
        dashboard,
        dead_letters,
        documents,
        hooks,
        host,
        policies,
        push,
        records,
        retract,
    )

    app.command()(push.push)
    app.command()(push.replay)
    app.command()(records.history)
    app.command()(records.failed)
    app.command("sample-certificate")(documents.sample_certificate)
    app.command()(documents.schemas)
    app.command()(retract.retract)
    app.command()(dashboard.dashboard)
    app.command()(documents.openapi)
    app.command()(host.serve)
    app.command()(host.events)
    app.add_typer(certificates.app, name="certificates")
    app.add_typer(policies.app, name="policies")
    app.add_typer(records.app, name="records")
    app.add_typer(dead_letters.app, name="dead-letters")
    app.add_typer(host.credentials_app, name="credentials")
    app.add_typer(host.simulators_app, name="simulators")
    app.add_typer(hooks.app, name="hooks")


_register_commands()


def main() -> None:
    import logging

    # warnings of the domain (a transient error, a retry) as one line on stderr; `serve` logs more
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="certpush: %(message)s")
    from certpush.log_hygiene import pin_library_loggers

    pin_library_loggers()  # before any client: no request or response body in a log (certpush.log_hygiene)
    app(prog_name="certpush")


if __name__ == "__main__":
    main()
