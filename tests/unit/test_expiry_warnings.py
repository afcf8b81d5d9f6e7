"""Expiry warnings (certpush.logic.expiry): a version that expires within the threshold is reported
with the targets that still serve it; a target that already has a newer version is not listed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from certpush.logic.expiry import ExpiryWarnings
from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, TargetKey
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from tests.fakes import FixedClock, InMemoryCertificateStore, InMemoryRecordsRepository, RecordingPublisher

from .conftest import DOMAIN, NOW, SANS, material_of

pytestmark = pytest.mark.unit

US = TargetKey(provider="aws", service="elb", region="us-east-1")
WAF = TargetKey(provider="huaweicloud", service="waf", region="cn-north-4")


def _succeeded(records: InMemoryRecordsRepository, clock: FixedClock, version: CertificateVersion, target: TargetKey,
               status: PushStatus = PushStatus.SUCCEEDED) -> None:  # fmt: skip
    now = clock.now()
    records.current[(version.certificate_id, version.version, target)] = PushRecord(
        certificate_id=version.certificate_id, version=version.version, provider=target.provider,
        service=target.service, region=target.region, status=status, target_id=f"id-{target.region}",
        console_url=f"https://console.example/{target.region}", issuance_id="iss",
        push_id=f"p-{target}-{version.version}", created_at=now, updated_at=now,
    )  # fmt: skip


@pytest.fixture
def warnings(store: InMemoryCertificateStore, records: InMemoryRecordsRepository, publisher: RecordingPublisher,
             clock: FixedClock) -> Callable[[int], ExpiryWarnings]:  # fmt: skip
    return lambda days: ExpiryWarnings(store, records, publisher, clock, warning_days=days)


def test_a_version_expiring_soon_is_reported_with_the_targets_serving_it(
    warnings, hosted_certificate, records, clock, publisher
):
    _succeeded(records, clock, hosted_certificate, US)
    _succeeded(records, clock, hosted_certificate, WAF, PushStatus.FAILED)
    days_left = (hosted_certificate.not_after - clock.now()).days

    found = warnings(days_left + 2).run()

    (detail,) = found
    assert publisher.expiring == found
    assert (detail.certificate_id, detail.version, detail.days_left) == (
        hosted_certificate.certificate_id,
        1,
        days_left,
    )
    assert [(t.provider, t.service, t.region, t.console_url) for t in detail.targets] == [
        ("aws", "elb", "us-east-1", "https://console.example/us-east-1")]  # fmt: skip


def test_nothing_is_reported_outside_the_threshold(warnings, hosted_certificate, records, clock, publisher):
    _succeeded(records, clock, hosted_certificate, US)
    days_left = (hosted_certificate.not_after - clock.now()).days

    assert warnings(days_left - 1).run() == []
    assert publisher.expiring == []


def test_a_target_that_has_a_newer_version_no_longer_serves_the_old_one(
    warnings, hosted_certificate, records, clock, store_certificate, sample: SampleCertificate
):
    # a renewal is new material: importing the same material again is the same version (idempotent import)
    renewal = make_certificate(DOMAIN, sans=SANS, days=90, not_before=NOW - timedelta(days=10))
    renewed = store_certificate(material_of(renewal), hosted_certificate.certificate_id)
    assert renewed.version == 2
    _succeeded(records, clock, hosted_certificate, US)
    _succeeded(records, clock, hosted_certificate, WAF)
    _succeeded(records, clock, renewed, US)

    found = warnings(365).run()

    by_version = {d.version: [t.region for t in d.targets] for d in found}
    assert by_version == {1: ["cn-north-4"], 2: ["us-east-1"]}
