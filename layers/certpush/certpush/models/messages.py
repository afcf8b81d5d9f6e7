"""Queue messages: one SQS message per (certificate version, provider, service, region).

Messages carry identifiers only: never certificate or key material."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, Json

from certpush.models.domain import CertificateId, PushRecord, TargetKey, TargetOptions


class PushMessage(BaseModel):
    """Identifies one recorded push. The worker acts on the stored record (its attach references and
    ``rollback`` come from there); the copies here are informational."""

    push_id: str
    issuance_id: str
    certificate_id: CertificateId
    version: int
    provider: str
    service: str
    region: str
    options: TargetOptions = TargetOptions()
    rollback: bool = False

    @property
    def target(self) -> TargetKey:
        return TargetKey(provider=self.provider, service=self.service, region=self.region)

    @classmethod
    def of(cls, record: PushRecord) -> PushMessage:
        """The queue message of a recorded push: the record carries everything the message holds."""
        return cls(**record.model_dump(include=set(cls.model_fields)))


class PushMessageRecord(SqsRecordModel):
    body: Json[PushMessage]


class DeadLetter(BaseModel):
    """A message in the push queue's dead-letter queue: its body is kept as it was sent."""

    message_id: str
    receipt_handle: str
    body: str
