"""`certpush dead-letters ...`: push messages the worker could not finish at all. The use cases
live in ``certpush_cli.logic.dead_letters``; this module parses and prints."""

from __future__ import annotations

from typing import Annotated

import typer

from certpush_cli.exit_codes import ExitCode, Failure, user_errors
from certpush_cli.options import HomeOption, StackOption
from certpush_cli.output import err, out

app = typer.Typer(
    help="Push messages that reached the dead-letter queue: list them, or send them back to be pushed.",
    no_args_is_help=True,
)


@app.command("list")
def list_dead_letters(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Show the messages in the dead-letter queue (they stay there)."""
    from certpush_cli.backends import backend
    from certpush_cli.logic.dead_letters import describe

    with user_errors(), backend(stack, home) as chosen:
        letters = chosen.dead_letters().peek(limit)
    for letter in letters:
        out.print(describe(letter))
    err.print(f"{len(letters)} message(s) in the dead-letter queue")


@app.command("redrive")
def redrive(
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 1000, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Send dead-lettered push messages back to the push queue. Each is deleted from the dead-letter
    queue only after the push queue accepted it: nothing is lost if this stops half-way."""
    from certpush_cli.backends import backend
    from certpush_cli.logic.dead_letters import describe

    with user_errors(), backend(stack, home) as chosen:
        outcome = chosen.dead_letters().redrive(
            limit, on_moved=lambda letter: out.print(f"redriven: {describe(letter)}")
        )
        if outcome.refused:
            raise Failure(
                f"the push queue refused {outcome.refused} message(s); they stay dead-lettered: run redrive again",
                ExitCode.UNREACHABLE,
            )
    err.print(f"{outcome.moved} message(s) sent back to the push queue")
