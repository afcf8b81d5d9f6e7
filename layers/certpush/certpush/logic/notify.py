"""Notifier: every final push record emits what people need next.

SUCCEEDED -> "configure now" (the console link of that service in that region); the last final
target of an issuance -> one summary. Driven by history items, which are written exactly once
per final outcome, so a rejected repeat (ALREADY_PUSHED) counts too.

Within ``batch()`` (one stream batch) the outcomes of an issuance's targets are written together,
one write per issuance, and the events go out together; a summary is marked sent only after the
events were published, so a failed publish sends it again (at least once)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from certpush.models.domain import PushRecord, PushStatus, RejectReason, TargetKey
from certpush.models.events import CertificatePushedDetail
from certpush.ports import EventPublisher, IssuanceTracking

logger = Logger(child=True)


@dataclass
class Notifier:
    records: IssuanceTracking
    publisher: EventPublisher
    _pending: dict[str, dict[TargetKey, str]] | None = field(default=None, repr=False)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Around a stream batch: outcomes written once per issuance, events sent together."""
        self._pending = {}
        summaries = []
        try:
            with self.publisher.batched():
                yield
                for issuance_id, outcomes in self._pending.items():
                    summary = self.records.note_finals(issuance_id, outcomes)
                    if summary is not None:
                        logger.info("issuance complete", extra=summary.model_dump(mode="json"))
                        self.publisher.issuance_summary(summary)
                        summaries.append(summary)
        finally:
            self._pending = None
        # published when batched() ended: only now is it sent (a failed publish is retried with the
        # stream records, at least once; a repeat carries the same issuance_id for consumers to dedupe)
        for summary in summaries:
            self.records.mark_summary_sent(summary.issuance_id)

    def on_final(self, record: PushRecord) -> None:
        if self._pending is None:  # one record on its own: a batch of one
            with self.batch():
                self.on_final(record)
            return
        if record.status is PushStatus.SUCCEEDED and record.target_id and record.console_url:
            self.publisher.certificate_pushed(
                CertificatePushedDetail(
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
        self._pending.setdefault(record.issuance_id, {})[record.target] = outcome
