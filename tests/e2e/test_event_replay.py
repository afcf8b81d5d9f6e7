"""`certpush replay --events`: archived "Certificate Issued" events go through the bus again and the
validator sees them anew, yet no version is pushed twice to a target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from cryptography import x509

from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
from certpush.models.domain import PushStatus
from certpush_cli.sample_certificates import make_certificate

from .conftest import acm_certificates, eventually, write_material

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


def _elb_certificates(stack, region: str, certificate_id: str) -> list[str]:
    held = stack.emulators["huaweicloud"].state()["elb"].get(region, {}).get("certificates", [])
    return [c["name"] for c in held if c["name"].startswith(f"certpush-{certificate_id}-")]


def test_a_replay_after_a_retract_leaves_the_retracted_target_alone(cli, stack, imported, certificate_id, tmp_path):
    """Issue 20: push v1 (an event without a version), import v2, retract the target, replay the
    archive. The archived issuance is v1's, as when first validated, and its target was retracted
    since: nothing is pushed, no certificate re-created, and the replay says so per issuance."""
    region = "cn-south-1"
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cli("push", certificate_id, "--to", f"huaweicloud:elb={region}", "--wait", "--timeout", "60")
    [v1] = cli("records", certificate_id, "--json").json()
    assert (v1["version"], v1["status"]) == (1, "SUCCEEDED")
    assert _elb_certificates(stack, region, certificate_id) == [f"certpush-{certificate_id}-v1"]
    renewed = make_certificate(f"{certificate_id}.example.com")
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, renewed))
    cli("retract", certificate_id, "--to", f"huaweicloud:elb={region}")
    assert _elb_certificates(stack, region, certificate_id) == []

    replayed = cli("replay", "--events", "--since", since, "--wait", "--timeout", "180", expect=None)

    # moto replays the whole archive: other tests' issuances may be pushed again (and fail: exit 1)
    assert replayed.exit_code in (0, 1), replayed.stdout + replayed.stderr
    ours = [line for line in replayed.stdout.splitlines() if f" {certificate_id} v" in line]
    assert ours == [f"issuance {v1['issuance_id']} {certificate_id} v1: huaweicloud:elb:{region} skipped: retracted"]
    assert "skipped (retracted)" in replayed.stdout.splitlines()[-1]
    assert _elb_certificates(stack, region, certificate_id) == []
    records = cli("records", certificate_id, "--json").json()
    assert [(r["version"], r["status"], r["issuance_id"]) for r in records] == [(1, "RETRACTED", v1["issuance_id"])]
