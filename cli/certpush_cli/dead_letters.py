"""`certpush dead-letters ...`: push messages the worker could not finish at all. The use cases
live in ``certpush.logic.dead_letters``; this module parses and prints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from certpush.errors import CertpushError
from certpush.logic.dead_letters import DeadLetters, describe
from certpush_cli.backends import HomeOption, StackOption, backend
from certpush_cli.terminal import err, out

dead_letters_app = typer.Typer(
    help="Push messages that reached the dead-letter queue: list them, or send them back to be pushed.",
    no_args_is_help=True,
)


@contextmanager
def _dead_letters(stack: str | None, home: Path | None) -> Iterator[DeadLetters]:
    try:
        with backend(stack, home) as chosen:
            yield chosen.dead_letters()
    except CertpushError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from exc


@dead_letters_app.command("list")
def list_dead_letters(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Show the messages in the dead-letter queue (they stay there)."""
    with _dead_letters(stack, home) as dead_letters:
        letters = dead_letters.peek(limit)
    for letter in letters:
        out.print(describe(letter))
    err.print(f"{len(letters)} message(s) in the dead-letter queue")


@dead_letters_app.command("redrive")
def redrive(
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 1000, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Send dead-lettered push messages back to the push queue. Each is deleted from the dead-letter
    queue only after the push queue accepted it: nothing is lost if this stops half-way."""
    with _dead_letters(stack, home) as dead_letters:
        outcome = dead_letters.redrive(limit, on_moved=lambda letter: out.print(f"redriven: {describe(letter)}"))
    if outcome.refused:
        err.print(f"error: the push queue refused {outcome.refused} message(s); they stay dead-lettered")
        raise typer.Exit(1)
    err.print(f"{outcome.moved} message(s) sent back to the push queue")
