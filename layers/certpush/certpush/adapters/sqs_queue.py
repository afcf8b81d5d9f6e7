"""Push queue on SQS: SendMessageBatch in tens, failed entries re-sent, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_errors import aws_errors
from certpush.errors import CertpushError
from certpush.models.messages import PushMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

_BATCH = 10
_RESENDS = 3
# SQS refuses a visibility timeout that ends more than 12 hours after the message was received; the
# worker asks within its Lambda timeout (at most 15 minutes) of the receive, so this always fits
_MAX_DELAY_SECONDS = 12 * 3600 - 15 * 60


class QueueSendError(CertpushError):
    pass


class SqsPushQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._url = queue_url
        self._client: SQSClient = client or aws_client("sqs")

    @aws_errors("push queue: send")
    def send(self, messages: Sequence[PushMessage]) -> None:
        pending = {m.push_id: m for m in messages}
        for _ in range(_RESENDS):
            if not pending:
                return
            failed: dict[str, PushMessage] = {}
            batch_items = list(pending.values())
            for start in range(0, len(batch_items), _BATCH):
                chunk = batch_items[start : start + _BATCH]
                entries: list[SendMessageBatchRequestEntryTypeDef] = [
                    {"Id": f"m{i}", "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)
                ]
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
                for entry in response.get("Failed", []):
                    message = chunk[int(entry["Id"][1:])]
                    if entry.get("SenderFault"):
                        raise QueueSendError(f"SQS refused push {message.push_id}: {entry.get('Message')}")
                    failed[message.push_id] = message
            pending = failed
        if pending:
            raise QueueSendError(f"SQS did not accept {len(pending)} push messages after {_RESENDS} tries")

    @aws_errors("push queue: send_bodies")
    def send_bodies(self, bodies: Sequence[str]) -> set[int]:
        """Bodies as they are, one batch (at most 10): the indexes SQS accepted (port ``RedriveQueue``)."""
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[:_BATCH])
        ]
        response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
        return {int(entry["Id"]) for entry in response.get("Successful", [])}

    @aws_errors("push queue: retry_later")
    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Backoff: the message comes back after ``seconds`` instead of the queue's visibility timeout."""
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, _MAX_DELAY_SECONDS))
        )
