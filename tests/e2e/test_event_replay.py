"""`certpush replay --events`: archived "Certificate Issued" events go through the bus again and the
validator sees them anew, yet no version is pushed twice to a target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from cryptography import x509

from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
from certpush.models.domain import PushStatus

from .conftest import acm_certificates, eventually

pytestmark = pytest.mark.e2e


def test_a_replayed_issuance_event_does_not_push_a_version_twice(cli, stack, imported, certificate_id):
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60")
    validator = stack.invokers["ValidatorFunction"]
    validated = validator.invocations

    replayed = cli("replay", "--events", "--since", since, "--wait", "--timeout", "60")

    assert "COMPLETED" in replayed.stdout
    # moto replays the whole archive (this session's every issuance): wait until all of it is handled
    archived = boto3.client("events").describe_archive(ArchiveName=f"{stack.stack_name}-issued")["EventCount"]
    eventually(lambda: validator.invocations >= validated + archived, timeout=60, what="the replayed events")
    pushes = DynamoDBPushQuery(stack.provisioned.outputs["RecordsTableName"])
    in_flight = (PushStatus.PENDING, PushStatus.IN_PROGRESS)
    eventually(lambda: not any(pushes.count_by_status(s) for s in in_flight), what="no push in flight")
    history = cli("history", certificate_id, "--json").json()
    pushed = [r for r in history if r["status"] == PushStatus.SUCCEEDED.value]
    assert len(pushed) == 1
    serial = format(x509.load_pem_x509_certificate(imported.certificate_pem.encode()).serial_number, "x")
    assert acm_certificates("us-east-1", serial) == [pushed[0]["target_id"]]


def test_replaying_events_needs_a_window(cli):
    result = cli("replay", "--events", expect=2)

    assert "--since" in result.stderr
