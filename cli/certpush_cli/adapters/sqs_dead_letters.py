"""The push queue's dead-letter queue on SQS (port ``DeadLetterQueue``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from certpush.adapters.aws_clients import aws_client
from certpush.models.messages import DeadLetter

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsDeadLetterQueue:
    def __init__(self, queue_url: str, client: Any | None = None, wait_seconds: int = 1) -> None:
        self._url = queue_url
        self._client: SQSClient = client or aws_client("sqs")
        self._wait_seconds = wait_seconds

    def receive(self, max_messages: int, hide_seconds: int) -> list[DeadLetter]:
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=self._wait_seconds,
            VisibilityTimeout=hide_seconds,
        )
        return [
            DeadLetter(message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"], body=m["Body"])
            for m in response.get("Messages", [])
        ]

    def release(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            self._client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
            )

    def delete(self, letter: DeadLetter) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=letter.receipt_handle)
