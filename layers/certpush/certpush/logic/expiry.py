"""Expiry warnings: which pushed certificate versions expire soon, and which targets still serve them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from certpush.models.domain import CertificateVersion, PushRecord, TargetKey
from certpush.models.events import CertificateExpiringDetail, ServingTarget
from certpush.ports import CertificateStore, Clock, ExpiryPublisher, RecordQueries


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days until ``not_after`` (negative once expired; -1 on its last day past the hour): the one
    count the dashboard, ``certpush certificates list`` and the expiry warnings show."""
    return math.floor((not_after - now).total_seconds() / 86400)


def serving(records: list[PushRecord]) -> dict[TargetKey, PushRecord]:
    """Per target, the live record (SUCCEEDED, or ATTACH_FAILED: the certificate is there) of the newest
    version: what the target serves. A version renewed in place by another is REPLACED, not live, so a
    rollback's older version is what it serves."""
    chosen: dict[TargetKey, PushRecord] = {}
    for record in records:
        if not record.status.is_live:
            continue
        known = chosen.get(record.target)
        if known is None or record.version > known.version:
            chosen[record.target] = record
    return chosen


@dataclass
class ExpiryWarnings:
    store: CertificateStore
    records: RecordQueries
    publisher: ExpiryPublisher
    clock: Clock
    warning_days: int = 30

    def expiring(self) -> list[CertificateExpiringDetail]:
        now = self.clock.now()
        found: list[CertificateExpiringDetail] = []
        for latest in self.store.list_certificates():
            served = serving(self.records.list_current(latest.certificate_id))
            if not served:
                continue
            for version in self.store.list_versions(latest.certificate_id):
                left = days_left(version.not_after, now)
                targets = [r for r in served.values() if r.version == version.version]
                if left < self.warning_days and targets:
                    found.append(_detail(version, left, targets))
        return found

    def run(self) -> list[CertificateExpiringDetail]:
        """Emits one "Certificate Expiring" per expiring version that targets still serve."""
        found = self.expiring()
        for detail in found:
            self.publisher.certificate_expiring(detail)
        return found


def _detail(version: CertificateVersion, days_left: int, targets: list[PushRecord]) -> CertificateExpiringDetail:
    return CertificateExpiringDetail(
        certificate_id=version.certificate_id,
        version=version.version,
        common_name=version.common_name,
        not_after=version.not_after,
        days_left=days_left,
        targets=[
            ServingTarget(
                provider=r.provider,
                service=r.service,
                region=r.region,
                target_id=r.target_id,
                console_url=r.console_url,
            )
            for r in sorted(targets, key=lambda r: (r.provider, r.service, r.region))
        ],
    )
