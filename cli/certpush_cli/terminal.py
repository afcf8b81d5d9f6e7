"""What every command shares: where output goes (results to stdout, progress and errors to
stderr, so that `--json` output pipes cleanly) and how a stack is named."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

import typer
from rich.console import Console

# no markup: ids, names and messages print as they are (a pattern like ``[a-z0-9-]`` is not a style)
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


class ExitCode(IntEnum):
    """Exit status of every command (documented in the README)."""

    OK = 0
    PUSH_FAILED = 1  # push/replay --wait: a target FAILED or was REJECTED
    USAGE = 2  # a malformed option or argument (click's own usage errors use 2 as well)
    REFUSED = 3  # input refused: certificate files, an id, a certificate or policy that is not there
    TIMEOUT = 4  # --wait gave up before every target was final
    ERROR = 5  # the stack could not be reached or failed (AWS error, unexpected error)


class Failure(Exception):
    """A message for the user and an exit code; no traceback."""

    def __init__(self, message: str, code: int = ExitCode.REFUSED) -> None:
        super().__init__(message)
        self.code = code


StackOption = Annotated[
    str, typer.Option("--stack", envvar="CERTPUSH_STACK", help="Name of the certpush stack (CloudFormation).")
]
