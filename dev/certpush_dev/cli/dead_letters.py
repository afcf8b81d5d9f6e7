"""`certpush dead-letters ...`: push messages the worker could not finish at all (it crashed or
timed out ``PushMaxAttempts`` times). Their records stay IN_PROGRESS until the message is redriven.

Written with ReceiveMessage / SendMessageBatch / DeleteMessage rather than SQS's
StartMessageMoveTask, which moto does not implement, so that it works the same on every stack."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from certpush.adapters.aws_clients import aws_client
from certpush.errors import CertpushError
from certpush.models.messages import PushMessage
from certpush_dev.cli.stack import stack_outputs
from certpush_dev.cli.terminal import StackOption, err, out

dead_letters_app = typer.Typer(
    help="Push messages that reached the dead-letter queue: list them, or send them back to be pushed.",
    no_args_is_help=True,
)


def _queues(stack: str) -> tuple[str, str]:
    try:
        outputs = stack_outputs(stack)
    except CertpushError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    return outputs["PushDeadLetterQueueUrl"], outputs["PushQueueUrl"]


def _receive(sqs: Any, url: str, visibility: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=visibility
    )
    return list(response.get("Messages", []))


def _describe(body: str) -> str:
    try:
        message = PushMessage.model_validate_json(body)
    except ValueError:
        return f"(not a push message) {body[:80]}"
    return f"{message.certificate_id} v{message.version} {message.target} push {message.push_id}"


@dead_letters_app.command("list")
def list_dead_letters(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100, stack: StackOption = "certpush"
) -> None:
    """Show the messages in the dead-letter queue (they stay there)."""
    dlq, _ = _queues(stack)
    sqs = aws_client("sqs")
    seen: dict[str, tuple[str, str]] = {}
    try:
        while len(seen) < limit:
            batch = [m for m in _receive(sqs, dlq, visibility=60) if m["MessageId"] not in seen]
            if not batch:
                break
            for message in batch:
                seen[message["MessageId"]] = (_describe(message["Body"]), message["ReceiptHandle"])
    finally:
        for _, receipt in seen.values():  # make them visible again at once: listing takes nothing away
            sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=receipt, VisibilityTimeout=0)
    for line, _ in seen.values():
        out.print(line)
    err.print(f"{len(seen)} message(s) in the dead-letter queue")


@dead_letters_app.command("redrive")
def redrive(limit: Annotated[int, typer.Option(min=1, max=100000)] = 1000, stack: StackOption = "certpush") -> None:
    """Send dead-lettered push messages back to the push queue. Each is deleted from the dead-letter
    queue only after the push queue accepted it: nothing is lost if this stops half-way."""
    dlq, queue = _queues(stack)
    sqs = aws_client("sqs")
    moved = 0
    while moved < limit:
        batch = _receive(sqs, dlq, visibility=60)[: limit - moved]
        if not batch:
            break
        entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(batch)]
        response = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        accepted = {int(entry["Id"]) for entry in response.get("Successful", [])}
        for index in sorted(accepted):
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=batch[index]["ReceiptHandle"])
            out.print(f"redriven: {_describe(batch[index]['Body'])}")
        moved += len(accepted)
        if len(accepted) < len(batch):
            err.print(f"error: the push queue refused {len(batch) - len(accepted)} message(s); they stay dead-lettered")
            raise typer.Exit(1)
    err.print(f"{moved} message(s) sent back to the push queue")
