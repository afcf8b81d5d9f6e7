"""`certpush push --force` and `certpush retract` on every target, through the CLI."""

from __future__ import annotations

import boto3
import pytest

from certpush_dev.local.fixtures import create_https_listener

pytestmark = pytest.mark.e2e

REGION = "cn-north-4"


def _records(cli, certificate_id):
    return {(r["provider"], r["service"]): r for r in cli("records", certificate_id, "--json").json()}


def test_retract_refuses_while_used_and_deletes_when_unused_on_every_target(cli, stack, imported, certificate_id):
    host = stack.emulators["huaweicloud"].add_waf_host(REGION, f"{certificate_id}.example.com")
    listener = stack.emulators["huaweicloud"].add_elb_listener(REGION, name="web-443")
    aws_listener = create_https_listener("us-east-1", f"lb-{certificate_id[-8:]}")
    targets = ["--to", f"huaweicloud:waf={REGION}", "--to", f"huaweicloud:elb={REGION}", "--to", "aws:elb=us-east-1"]
    cli("push", certificate_id, *targets,
        "--attach", f"huaweicloud:waf={REGION}/{host}", "--attach", f"huaweicloud:elb={REGION}/{listener}",
        "--attach", f"aws:elb={aws_listener}", "--wait", "--timeout", "60")  # fmt: skip
    pushed = _records(cli, certificate_id)

    refused = cli("retract", certificate_id, *targets, expect=1)
    assert refused.stdout.count("IN_USE") == 3
    assert f"{certificate_id}.example.com ({host})" in refused.stdout
    assert "listener web-443 (SNI)" in refused.stdout
    assert f"listener {aws_listener}" in refused.stdout.replace("\n", "")
    assert {r["status"] for r in _records(cli, certificate_id).values()} == {"SUCCEEDED"}

    for service in ("waf", "elb"):
        stack.emulators["huaweicloud"].detach_everywhere(REGION, pushed[("huaweicloud", service)]["target_id"])
    arn = pushed[("aws", "elb")]["target_id"]
    boto3.client("elbv2", region_name="us-east-1").remove_listener_certificates(
        ListenerArn=aws_listener, Certificates=[{"CertificateArn": arn}]
    )
    done = cli("retract", certificate_id, *targets)
    assert done.stdout.count("RETRACTED") == 3
    assert {r["status"] for r in _records(cli, certificate_id).values()} == {"RETRACTED"}
    state = stack.emulators["huaweicloud"].state()
    for service in ("waf", "elb"):
        ids = [c["id"] for c in state[service][REGION]["certificates"]]
        assert pushed[("huaweicloud", service)]["target_id"] not in ids
    acm = boto3.client("acm", region_name="us-east-1")
    assert arn not in [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
    assert "RETRACTED" in cli("history", certificate_id).stdout


def test_force_pushes_again_what_was_deleted_behind_certpush(cli, stack, imported, certificate_id):
    targets = ["--to", f"huaweicloud:waf={REGION}", "--to", f"huaweicloud:elb={REGION}", "--to", "aws:elb=us-east-1"]
    cli("push", certificate_id, *targets, "--wait", "--timeout", "60")
    first = _records(cli, certificate_id)
    for service in ("waf", "elb"):
        stack.emulators["huaweicloud"].delete_certificate(service, REGION, first[("huaweicloud", service)]["target_id"])
    boto3.client("acm", region_name="us-east-1").delete_certificate(CertificateArn=first[("aws", "elb")]["target_id"])

    again = cli("push", certificate_id, *targets, "--wait", "--timeout", "60")
    assert again.stdout.count("ALREADY_PUSHED") == 3

    cli("push", certificate_id, *targets, "--force", "--wait", "--timeout", "60")
    forced = _records(cli, certificate_id)
    assert {(r["status"], r["forced"]) for r in forced.values()} == {("SUCCEEDED", True)}
    state = stack.emulators["huaweicloud"].state()
    for service in ("waf", "elb"):
        assert forced[("huaweicloud", service)]["target_id"] in [
            c["id"] for c in state[service][REGION]["certificates"]
        ]
    acm = boto3.client("acm", region_name="us-east-1")
    acm.describe_certificate(CertificateArn=forced[("aws", "elb")]["target_id"])
    history = cli("history", certificate_id, "--json").json()
    assert [h["forced"] for h in history[:3]] == [True, True, True]
