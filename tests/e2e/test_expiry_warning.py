"""The scheduled expiry warning on the embedded stack: a pushed certificate that expires within the
threshold gets a "Certificate Expiring" event listing the target that serves it, and the records API
flags it for the dashboard."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from certpush.models.events import DETAIL_TYPE_EXPIRING, CertificateExpiringDetail
from certpush_cli.sample_certificates import make_certificate
from tests.e2e.conftest import eventually, write_material
from tests.e2e.test_notifications import listener_queue

pytestmark = pytest.mark.e2e
__all__ = ["listener_queue"]  # a fixture used below


def _scheduled_event() -> dict[str, object]:
    """What an EventBridge schedule sends (EventBridge User Guide, "Creating a rule that runs on a schedule")."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/certpush-expiry"], "detail": {},
    }  # fmt: skip


def test_a_certificate_expiring_soon_is_announced_with_its_targets(cli, stack, tmp_path, listener_queue):
    certificate_id = f"soon-{uuid.uuid4().hex[:8]}"
    sample = make_certificate(f"{certificate_id}.example.com", days=10)
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, sample))
    cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60")

    ok, response = stack.invokers["ExpiryWarningFunction"](_scheduled_event())

    assert ok, response
    sqs = boto3.client("sqs")

    def announced() -> CertificateExpiringDetail | None:
        for message in sqs.receive_message(QueueUrl=listener_queue, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=listener_queue, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            if event["detail-type"] == DETAIL_TYPE_EXPIRING and event["detail"]["certificate_id"] == certificate_id:
                return CertificateExpiringDetail.model_validate(event["detail"])
        return None

    detail = eventually(announced, timeout=30, what="Certificate Expiring")
    assert detail.days_left in (9, 10)
    assert [(t.provider, t.service, t.region) for t in detail.targets] == [("aws", "elb", "us-east-1")]
