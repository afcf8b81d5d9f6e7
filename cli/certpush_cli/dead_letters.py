"""`certpush dead-letters ...`: push messages the worker could not finish at all. The use cases
live in ``certpush.logic.dead_letters``; this module parses and prints."""

from __future__ import annotations

from typing import Annotated

import typer

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.sqs_dead_letters import SqsDeadLetterQueue
from certpush.adapters.sqs_queue import SqsPushQueue
from certpush.logic.dead_letters import DeadLetters, describe
from certpush_cli.stack import stack_outputs
from certpush_cli.terminal import ExitCode, Failure, StackOption, err, out, user_errors

dead_letters_app = typer.Typer(
    help="Push messages that reached the dead-letter queue: list them, or send them back to be pushed.",
    no_args_is_help=True,
)


def _queues(stack: str) -> tuple[str, str]:
    outputs = stack_outputs(stack)
    return outputs["PushDeadLetterQueueUrl"], outputs["PushQueueUrl"]


def _dead_letters(stack: str) -> DeadLetters:
    dlq, queue = _queues(stack)
    sqs = aws_client("sqs")
    return DeadLetters(dead=SqsDeadLetterQueue(dlq, sqs), queue=SqsPushQueue(queue, sqs))


@dead_letters_app.command("list")
def list_dead_letters(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100, stack: StackOption = "certpush"
) -> None:
    """Show the messages in the dead-letter queue (they stay there)."""
    with user_errors():
        letters = _dead_letters(stack).peek(limit)
    for letter in letters:
        out.print(describe(letter))
    err.print(f"{len(letters)} message(s) in the dead-letter queue")


@dead_letters_app.command("redrive")
def redrive(limit: Annotated[int, typer.Option(min=1, max=100000)] = 1000, stack: StackOption = "certpush") -> None:
    """Send dead-lettered push messages back to the push queue. Each is deleted from the dead-letter
    queue only after the push queue accepted it: nothing is lost if this stops half-way."""
    with user_errors():
        outcome = _dead_letters(stack).redrive(
            limit, on_moved=lambda letter: out.print(f"redriven: {describe(letter)}")
        )
        if outcome.refused:
            raise Failure(
                f"the push queue refused {outcome.refused} message(s); they stay dead-lettered: run redrive again",
                ExitCode.UNREACHABLE,
            )
    err.print(f"{outcome.moved} message(s) sent back to the push queue")
