"""Outbound events: EventBridge (PutEvents) and an SNS topic for people.

Inside ``batched()`` the events are collected and sent when the block ends, ten to a call
(the limit of both PutEvents and SNS PublishBatch): a notifier batch of twenty successes costs two
PutEvents and two PublishBatch calls instead of twenty of each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_errors import aws_errors
from certpush.errors import CertpushError
from certpush.models.events import (
    DETAIL_TYPE_EXPIRING,
    DETAIL_TYPE_ISSUED,
    DETAIL_TYPE_PUSHED,
    DETAIL_TYPE_SUMMARY,
    EVENT_SOURCE,
    NOTIFY_SOURCE,
    CertificateExpiringDetail,
    CertificateIssuedDetail,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)


class PublishError(CertpushError):
    pass


MAX_ENTRIES_PER_CALL = 10  # PutEvents and SNS PublishBatch both take at most ten


class EventBridgePublisher:
    """Emits our events on the stack's bus, and a readable copy to the SNS topic (when configured)."""

    def __init__(
        self,
        event_bus_name: str,
        topic_arn: str | None = None,
        events_client: Any | None = None,
        sns_client: Any | None = None,
    ) -> None:
        self._bus = event_bus_name
        self._topic = topic_arn
        self._events = events_client or aws_client("events")
        self._sns = sns_client or (aws_client("sns") if topic_arn else None)
        self._local = threading.local()  # what the current thread's batched() block has collected

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Collects the events published in the block; sends them when it ends (also after an
        error: what was collected belongs to records that were handled)."""
        self._local.entries, self._local.notes = [], []
        try:
            yield
        finally:
            entries, notes = self._local.entries, self._local.notes
            self._local.entries = self._local.notes = None
            self._send(entries)
            self._send_notes(notes)

    def _put(self, source: str, detail_type: str, detail: str) -> str:
        entry = {"Source": source, "DetailType": detail_type, "Detail": detail, "EventBusName": self._bus}
        collected = getattr(self._local, "entries", None)
        if collected is not None:
            collected.append(entry)
            return ""
        return self._send([entry])[0]

    def _send(self, entries: list[dict[str, str]]) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
            chunk = entries[start : start + MAX_ENTRIES_PER_CALL]
            response = self._events.put_events(Entries=chunk)
            refused = [
                (sent, got) for sent, got in zip(chunk, response["Entries"], strict=True) if "EventId" not in got
            ]
            if response.get("FailedEntryCount") or refused:
                sent, got = refused[0] if refused else (chunk[0], {})
                raise PublishError(
                    f"EventBridge refused {sent['DetailType']}: {got.get('ErrorCode')} {got.get('ErrorMessage')}"
                )
            ids += [str(got["EventId"]) for got in response["Entries"]]
        return ids

    def _notify(self, subject: str, text: str, attributes: dict[str, str]) -> None:
        if self._sns is None or self._topic is None:
            return
        note = {
            "Subject": subject[:100],
            "Message": text,
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        }
        collected = getattr(self._local, "notes", None)
        if collected is not None:
            collected.append(note)
        else:
            self._sns.publish(TopicArn=self._topic, **note)

    def _send_notes(self, notes: list[dict[str, Any]]) -> None:
        if self._sns is None or self._topic is None:
            return
        for start in range(0, len(notes), MAX_ENTRIES_PER_CALL):
            chunk = notes[start : start + MAX_ENTRIES_PER_CALL]
            response = self._sns.publish_batch(
                TopicArn=self._topic, PublishBatchRequestEntries=[{"Id": str(i), **n} for i, n in enumerate(chunk)]
            )
            if response.get("Failed"):
                failed = response["Failed"][0]
                raise PublishError(f"SNS refused a notification: {failed.get('Code')} {failed.get('Message')}")

    @aws_errors("events: certificate_issued")
    def certificate_issued(self, detail: CertificateIssuedDetail) -> str:
        return self._put(EVENT_SOURCE, DETAIL_TYPE_ISSUED, detail.model_dump_json(exclude_none=True))

    @aws_errors("events: certificate_pushed")
    def certificate_pushed(self, detail: CertificatePushedDetail) -> None:
        self._put(NOTIFY_SOURCE, DETAIL_TYPE_PUSHED, detail.model_dump_json())
        self._notify(
            f"certpush: {detail.certificate_id} v{detail.version} pushed to {detail.provider} "
            f"{detail.service.upper()} {detail.region}",
            f"Certificate {detail.certificate_id} version {detail.version} is in {detail.provider} "
            f"{detail.service.upper()} ({detail.region}) as {detail.target_id}.\n"
            f"Configure now: {detail.console_url}\n",
            {"kind": "pushed", "provider": detail.provider, "service": detail.service},
        )

    @aws_errors("events: issuance_summary")
    def issuance_summary(self, detail: IssuanceSummaryDetail) -> None:
        self._put(NOTIFY_SOURCE, DETAIL_TYPE_SUMMARY, detail.model_dump_json())
        counts = detail.counts
        self._notify(
            f"certpush: {detail.certificate_id} v{detail.version} push {detail.outcome.lower()}",
            f"Push of {detail.certificate_id} version {detail.version} finished: {counts.succeeded} succeeded, "
            f"{counts.failed} failed, {counts.rejected} rejected"
            + (f", {counts.attach_failed} uploaded but not attached" if counts.attach_failed else "")
            + (f", {counts.superseded} superseded by a newer version" if counts.superseded else "")
            + ".\n"
            + "\n".join(f"  {target}: {status}" for target, status in detail.targets.items())
            + "\n",
            {"kind": "summary", "outcome": detail.outcome},
        )

    def certificate_expiring(self, detail: CertificateExpiringDetail) -> None:
        self._put(NOTIFY_SOURCE, DETAIL_TYPE_EXPIRING, detail.model_dump_json())
        self._notify(
            f"certpush: {detail.certificate_id} v{detail.version} expires in {detail.days_left} days",
            f"Certificate {detail.certificate_id} version {detail.version} ({detail.common_name}) expires on "
            f"{detail.not_after:%Y-%m-%d}, and these targets still serve it:\n"
            + "\n".join(f"  {t.provider}:{t.service}:{t.region} {t.console_url or ''}".rstrip() for t in detail.targets)
            + "\n",
            {"kind": "expiring"},
        )
