"""Notifier: every final push record emits what people need next.

SUCCEEDED -> "configure now" (the console link of that service in that region); the last final
target of an issuance -> one summary. Driven by history items, which are written exactly once
per final outcome, so a rejected repeat (ALREADY_PUSHED) counts too."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger

from certpush.models.domain import PushRecord, PushStatus, RejectReason
from certpush.models.events import ConfigureNowDetail
from certpush.ports import EventPublisher, RecordsRepository

logger = Logger(child=True)


@dataclass
class Notifier:
    records: RecordsRepository
    publisher: EventPublisher

    def on_final(self, record: PushRecord) -> None:
        if record.status is PushStatus.SUCCEEDED and record.target_id and record.console_url:
            self.publisher.configure_now(
                ConfigureNowDetail(
                    certificate_id=record.certificate_id,
                    version=record.version,
                    provider=record.provider,
                    service=record.service,
                    region=record.region,
                    target_id=record.target_id,
                    console_url=record.console_url,
                    issuance_id=record.issuance_id,
                    push_id=record.push_id,
                    pushed_at=record.updated_at,
                )
            )
        already_there = record.status is PushStatus.REJECTED and record.reason == RejectReason.ALREADY_PUSHED
        outcome = RejectReason.ALREADY_PUSHED.value if already_there else record.status.value
        summary = self.records.note_final(record.issuance_id, record.target, outcome)
        if summary is not None:
            logger.info("issuance complete", extra=summary.model_dump(mode="json"))
            # published first, marked after: a failed publish is retried with the stream record
            # (at least once; a repeat carries the same issuance_id for consumers to dedupe)
            self.publisher.issuance_summary(summary)
            self.records.mark_summary_sent(summary.issuance_id)
