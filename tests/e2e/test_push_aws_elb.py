"""The main job through the CLI: import, push to AWS ELB in several regions with a listener."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from cryptography import x509

from certpush_cli.sample_certificates import make_certificate
from certpush_dev.local.fixtures import create_https_listener
from tests.e2e.conftest import acm_certificates, write_material

pytestmark = pytest.mark.e2e

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]


def _serial(pem: str) -> str:
    return format(x509.load_pem_x509_certificate(pem.encode()).serial_number, "x")


def test_push_to_several_regions_records_succeeded_and_lands_in_acm_and_on_the_listener(cli, imported, certificate_id):
    listener = create_https_listener("us-east-1", f"lb-{certificate_id[-8:]}")

    result = cli("push", certificate_id, "--to", f"aws:elb={','.join(REGIONS)}",
                 "--attach", f"aws:elb={listener}", "--wait", "--timeout", "60")  # fmt: skip

    for region in REGIONS:
        assert f"{region}" in result.stdout
    records = cli("records", certificate_id, "--json").json()
    assert sorted(r["region"] for r in records) == sorted(REGIONS)
    for record in records:
        assert record["status"] == "SUCCEEDED", record
        assert record["provider"] == "aws" and record["service"] == "elb" and record["version"] == 1
        assert record["console_url"].startswith(f"https://{record['region']}.console.aws.amazon.com/")
        assert record["attempts"] == 1
        assert acm_certificates(record["region"], _serial(imported.certificate_pem)) == [record["target_id"]]
    us_east = next(r for r in records if r["region"] == "us-east-1")
    on_listener = boto3.client("elbv2", region_name="us-east-1").describe_listener_certificates(ListenerArn=listener)
    assert us_east["target_id"] in [c["CertificateArn"] for c in on_listener["Certificates"]]
    assert "-----BEGIN" not in json.dumps(records)


def test_the_same_version_twice_is_one_certificate_and_already_pushed_in_history(cli, imported, certificate_id):
    cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60")

    again = cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60")

    assert "ALREADY_PUSHED" in again.stdout
    assert acm_certificates("us-east-1", _serial(imported.certificate_pem)) != []
    assert len(acm_certificates("us-east-1", _serial(imported.certificate_pem))) == 1
    records = cli("records", certificate_id, "--json").json()
    assert [(r["status"], r["region"]) for r in records] == [("SUCCEEDED", "us-east-1")]
    history = cli("history", certificate_id, "--json").json()
    assert [(h["status"], h["reason"]) for h in history] == [("REJECTED", "ALREADY_PUSHED"), ("SUCCEEDED", None)]


def test_a_new_version_is_reimported_in_place(cli, imported, certificate_id, tmp_path: Path):
    cli("push", certificate_id, "--to", "aws:elb=eu-west-1", "--wait", "--timeout", "60")
    first = cli("records", certificate_id, "--json").json()[0]["target_id"]
    renewed = make_certificate(f"{certificate_id}.example.com")
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, renewed))

    cli("push", certificate_id, "--to", "aws:elb=eu-west-1", "--wait", "--timeout", "60")

    records = {r["version"]: r for r in cli("records", certificate_id, "--json").json()}
    assert records[2]["status"] == "SUCCEEDED"
    assert records[2]["target_id"] == first  # same ARN: re-imported, listeners keep it
    assert acm_certificates("eu-west-1", _serial(renewed.certificate_pem)) == [first]


def test_push_policies_push_an_imported_certificate_with_no_manual_step(cli, tmp_path: Path, certificate_id, stack):
    domain = f"{certificate_id}.policy.example.com"
    cli("policies", "add", f"p-{certificate_id[-8:]}", "--pattern", f"*.{domain}", "--to", "aws:elb=us-west-2")
    sample = make_certificate(f"www.{domain}")

    cli("certificates", "import", "--id", certificate_id, *write_material(tmp_path, sample))

    from tests.e2e.conftest import eventually

    def pushed() -> list[dict[str, object]]:
        found = cli("records", certificate_id, "--json").json()
        return found if found and all(r["status"] == "SUCCEEDED" for r in found) else []

    records = eventually(pushed, what="the policy's push to finish")
    assert [(r["provider"], r["service"], r["region"]) for r in records] == [("aws", "elb", "us-west-2")]
    cli("policies", "remove", f"p-{certificate_id[-8:]}")


def test_attach_default_makes_it_the_listener_s_default_certificate(cli, imported, certificate_id):
    listener = create_https_listener("us-east-1", f"ld-{certificate_id[-8:]}", attach="default")

    cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--attach-default", f"aws:elb={listener}",
        "--wait", "--timeout", "60")  # fmt: skip

    (record,) = cli("records", certificate_id, "--json").json()
    described = boto3.client("elbv2", region_name="us-east-1").describe_listeners(ListenerArns=[listener])
    assert described["Listeners"][0]["Certificates"] == [{"CertificateArn": record["target_id"]}]


@pytest.mark.parametrize(
    ("attach", "option"),
    [(None, "--attach"), ("true", "--attach-default")],
    ids=["untagged-listener", "default-without-its-tag"],
)
def test_a_listener_its_owner_did_not_tag_for_it_is_left_alone(cli, imported, certificate_id, attach, option):
    """The push worker's role allows listener changes only where the listener's tag says so (issue 18):
    the embedded stack refuses the rest as IAM does: the certificate is in ACM and the attach failed, each
    recorded (ATTACH_FAILED, issue 16), and the listener is as it was."""
    listener = create_https_listener("us-east-1", f"lu-{certificate_id[-8:]}", attach=attach)
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    before = elbv2.describe_listener_certificates(ListenerArn=listener)["Certificates"]

    cli("push", certificate_id, "--to", "aws:elb=us-east-1", option, f"aws:elb={listener}",
        "--wait", "--timeout", "60", expect=1)  # fmt: skip

    (record,) = cli("records", certificate_id, "--json").json()
    assert record["status"] == "ATTACH_FAILED"
    assert "certpush:attach" in record["message"]
    assert boto3.client("acm", region_name="us-east-1").describe_certificate(CertificateArn=record["target_id"])
    assert elbv2.describe_listener_certificates(ListenerArn=listener)["Certificates"] == before
