"""Looks in the emulators for what each SUCCEEDED record says was pushed (`certpush local check`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_elb import region_of_arn
from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.models.domain import PushRecord, PushStatus
from certpush.settings import Settings


def _aws_elb(record: PushRecord) -> Iterator[tuple[str, bool]]:
    arn = record.target_id or ""
    acm = aws_client("acm", record.region)
    try:
        acm.describe_certificate(CertificateArn=arn)
        yield f"aws:elb:{record.region} ACM has {arn}", True
    except acm.exceptions.ResourceNotFoundException:
        yield f"aws:elb:{record.region} ACM has no {arn}", False
        return
    elbv2 = aws_client("elbv2", record.region)
    for listener in record.options.attach:
        if region_of_arn(listener) != record.region:
            continue
        found = elbv2.describe_listener_certificates(ListenerArn=listener)["Certificates"]
        present = any(c["CertificateArn"] == arn for c in found)
        yield f"aws:elb:{record.region} listener {listener.rsplit('/', 3)[-3]} has it", present
    for listener in record.options.attach_default:
        if region_of_arn(listener) != record.region:
            continue
        described = elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]
        present = any(c["CertificateArn"] == arn for c in described.get("Certificates", []))
        yield f"aws:elb:{record.region} listener {listener.rsplit('/', 3)[-3]} has it as default", present


def _huaweicloud(record: PushRecord, state: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    certificates = state.get(record.service, {}).get(record.region, {}).get("certificates", [])
    present = any(c.get("id") == record.target_id for c in certificates)
    yield f"huaweicloud:{record.service}:{record.region} has {record.target_id} ({len(certificates)} in store)", present


def inspect_pushes(settings: Settings, certificate_id: str, huaweicloud_url: str) -> Iterator[tuple[str, bool]]:
    records = DynamoDBRecordsRepository(settings.records_table).list_current(certificate_id)
    state: dict[str, Any] | None = None
    for record in sorted(records, key=lambda r: (r.provider, r.service, r.region)):
        if record.status is not PushStatus.SUCCEEDED:
            continue
        if record.provider == "aws":
            yield from _aws_elb(record)
        else:
            if state is None:
                state = httpx.get(f"{huaweicloud_url}/_sim/state", timeout=10).json()
            yield from _huaweicloud(record, state)
