"""What every command shares: where output goes (results to stdout, progress and errors to
stderr, so that `--json` output pipes cleanly) and how a stack is named."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

StackOption = Annotated[
    str, typer.Option("--stack", envvar="CERTPUSH_STACK", help="Name of the certpush stack (CloudFormation).")
]
