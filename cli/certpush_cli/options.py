"""The options every command shares that say which certpush it talks to (``certpush_cli.backends``
has the rule). Here, apart from the backends, so that declaring a command imports nothing heavy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
