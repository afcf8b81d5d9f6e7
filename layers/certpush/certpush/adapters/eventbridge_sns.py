"""Outbound events: EventBridge (PutEvents) and an SNS topic for people."""

from __future__ import annotations

from typing import Any

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_errors import aws_errors
from certpush.errors import CertpushError
from certpush.models.events import (
    DETAIL_TYPE_CONFIGURE_NOW,
    DETAIL_TYPE_EXPIRING,
    DETAIL_TYPE_ISSUED,
    DETAIL_TYPE_SUMMARY,
    EVENT_SOURCE,
    NOTIFY_SOURCE,
    CertificateExpiringDetail,
    CertificateIssuedDetail,
    ConfigureNowDetail,
    IssuanceSummaryDetail,
)


class PublishError(CertpushError):
    pass


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

    def _put(self, source: str, detail_type: str, detail: str) -> str:
        response = self._events.put_events(
            Entries=[{"Source": source, "DetailType": detail_type, "Detail": detail, "EventBusName": self._bus}]
        )
        entry = response["Entries"][0]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            raise PublishError(
                f"EventBridge refused {detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
        return str(entry["EventId"])

    def _notify(self, subject: str, text: str, attributes: dict[str, str]) -> None:
        if self._sns is None or self._topic is None:
            return
        self._sns.publish(
            TopicArn=self._topic,
            Subject=subject[:100],
            Message=text,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )

    @aws_errors("events: certificate_issued")
    def certificate_issued(self, detail: CertificateIssuedDetail) -> str:
        return self._put(EVENT_SOURCE, DETAIL_TYPE_ISSUED, detail.model_dump_json(exclude_none=True))

    @aws_errors("events: configure_now")
    def configure_now(self, detail: ConfigureNowDetail) -> None:
        self._put(NOTIFY_SOURCE, DETAIL_TYPE_CONFIGURE_NOW, detail.model_dump_json())
        self._notify(
            f"certpush: {detail.certificate_id} v{detail.version} pushed to {detail.provider} "
            f"{detail.service.upper()} {detail.region}",
            f"Certificate {detail.certificate_id} version {detail.version} is in {detail.provider} "
            f"{detail.service.upper()} ({detail.region}) as {detail.target_id}.\n"
            f"Configure now: {detail.console_url}\n",
            {"kind": "configure-now", "provider": detail.provider, "service": detail.service},
        )

    @aws_errors("events: issuance_summary")
    def issuance_summary(self, detail: IssuanceSummaryDetail) -> None:
        self._put(NOTIFY_SOURCE, DETAIL_TYPE_SUMMARY, detail.model_dump_json())
        counts = detail.counts
        self._notify(
            f"certpush: {detail.certificate_id} v{detail.version} push {detail.outcome.lower()}",
            f"Push of {detail.certificate_id} version {detail.version} finished: {counts.succeeded} succeeded, "
            f"{counts.failed} failed, {counts.rejected} rejected.\n"
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
