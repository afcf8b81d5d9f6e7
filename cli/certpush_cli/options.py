"""The options several commands share: which certpush they talk to (``certpush_cli.backends`` has the
rule) and which targets they name. Here, apart from the backends, so that declaring a command imports
nothing heavy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certpush_cli.help_texts import ATTACH_DEFAULT_HELP, ATTACH_HELP, TO_HELP

StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        envvar="CERTPUSH_STACK",
        help="A certpush stack on AWS (CloudFormation name). Without it, the one-machine host in the home.",
    ),
]
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        envvar="CERTPUSH_HOME",
        help="The one-machine host's home (default: ${XDG_STATE_HOME:-~/.local/state}/certpush).",
        show_default=False,
    ),
]
ToOption = Annotated[list[str], typer.Option("--to", help=TO_HELP, metavar="PROVIDER:SERVICE=REGION,...")]
AttachOption = Annotated[list[str] | None, typer.Option("--attach", help=ATTACH_HELP, metavar="PROVIDER:SERVICE=REF")]
AttachDefaultOption = Annotated[
    list[str] | None, typer.Option("--attach-default", help=ATTACH_DEFAULT_HELP, metavar="PROVIDER:SERVICE=REF")
]
