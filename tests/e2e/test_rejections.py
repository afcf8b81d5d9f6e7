"""Every push that cannot succeed ends as a REJECTED record with its reason code and a message;
nothing raises out of a handler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from certpush.models.domain import TargetSpec
from certpush_cli.sample_certificates import make_certificate, other_private_key
from tests.e2e.conftest import emit_issued, write_material

pytestmark = pytest.mark.e2e


def _only_record(cli, certificate_id: str) -> dict:
    records = cli("records", certificate_id, "--json").json()
    assert len(records) == 1, records
    return records[0]


def _import(cli, tmp_path: Path, certificate_id: str, *extra: str, **make: object) -> None:
    key = make.pop("key", None)
    sample = make_certificate(f"{certificate_id}.example.com", **make)  # type: ignore[arg-type]
    cli("certificates", "import", "--id", certificate_id, "--no-push", *extra,
        *write_material(tmp_path, sample, key_pem=key))  # fmt: skip


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "EXPIRED"),
        ("not_yet_valid", "NOT_YET_VALID"),
        ("key_mismatch", "KEY_MISMATCH"),
        ("not_hosted", "NOT_HOSTED"),
    ],
)
def test_certificate_problems_are_rejected_with_their_reason(cli, stack, tmp_path, certificate_id, case, reason):
    now = datetime.now(UTC)
    if case == "expired":
        _import(cli, tmp_path, certificate_id, days=30, not_before=now - timedelta(days=60))
    elif case == "not_yet_valid":
        _import(cli, tmp_path, certificate_id, not_before=now + timedelta(days=3))
    elif case == "key_mismatch":
        _import(cli, tmp_path, certificate_id, "--force", key=other_private_key())
    else:
        _import(cli, tmp_path, certificate_id)
        cli("certificates", "set-status", certificate_id, "REVOKED")
    errors_before = sum(i.errors for i in stack.invokers.values())

    result = cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60", expect=1)

    record = _only_record(cli, certificate_id)
    assert (record["status"], record["reason"]) == ("REJECTED", reason)
    assert record["message"] and reason in result.stdout
    assert sum(i.errors for i in stack.invokers.values()) == errors_before  # no handler raised


def test_a_chain_that_does_not_verify_is_refused_at_import_and_rejected_when_forced(cli, tmp_path, certificate_id):
    sample = make_certificate(f"{certificate_id}.example.com")
    stranger = make_certificate("other.example.com")  # its chain did not issue our certificate
    args = ["--cert", *write_material(tmp_path, sample)[1:2], "--key", *write_material(tmp_path, sample)[5:6]]
    chain = tmp_path / "wrong-chain.pem"
    chain.write_text(stranger.chain_pem)

    refused = cli("certificates", "import", "--id", certificate_id, "--no-push", *args, "--chain", str(chain), expect=3)
    assert "CHAIN_INVALID" in refused.stderr and "nothing was imported" in refused.stderr

    cli("certificates", "import", "--id", certificate_id, "--no-push", *args, "--chain", str(chain), "--force")
    cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60", expect=1)
    assert _only_record(cli, certificate_id)["reason"] == "CHAIN_INVALID"


@pytest.mark.parametrize(
    ("target", "reason", "count"),
    [
        (
            TargetSpec(provider="aws", service="elb", regions=[f"r{i}-east-1" for i in range(11)]),
            "TOO_MANY_REGIONS",
            11,
        ),
        (TargetSpec(provider="gcp", service="elb", regions=["us-east-1"]), "UNKNOWN_PROVIDER", 1),
        (TargetSpec(provider="aws", service="cdn", regions=["us-east-1"]), "UNKNOWN_SERVICE", 1),
        (TargetSpec(provider="aws", service="elb", regions=["mars-north-1"]), "REGION_NOT_OFFERED", 1),
        (TargetSpec(provider="huaweicloud", service="waf", regions=["us-east-1"]), "REGION_NOT_OFFERED", 1),
    ],
    ids=["too-many-regions", "unknown-provider", "unknown-service", "no-such-region", "another-providers-region"],
)
def test_target_problems_in_an_event_are_rejected_with_their_reason(stack, imported, certificate_id, target, reason,
                                                                     count, cli):  # fmt: skip
    # an event from another producer: the CLI refuses these before anything is written (below)
    emit_issued(stack, certificate_id, [target])

    records = cli("records", certificate_id, "--json").json()
    assert len(records) == count
    assert {(r["status"], r["reason"]) for r in records} == {("REJECTED", reason)}


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("aws:elb=us-east1", "did you mean 'us-east-1'"),
        ("azure:appgw=westeurope", "unknown provider 'azure' (known: aws, huaweicloud)"),
        ("aws:elbv2=us-east-1", "did you mean 'aws:elb'"),
        ("huaweicloud:waf=us-east-1", "huaweicloud:waf is not offered in region 'us-east-1'"),
        (
            "aws:elb="
            + ",".join(f"us-east-{i}" for i in range(1, 3))
            + ","
            + ",".join(f"eu-{d}-{i}" for d in ("west", "central", "north") for i in (1, 2, 3)),
            "at most 10",
        ),
    ],
    ids=["region-typo", "unknown-provider", "service-typo", "another-providers-region", "eleven-regions"],
)
def test_a_target_typo_is_a_usage_error_and_writes_nothing(cli, stack, imported, certificate_id, to, says):
    before = len(_table_items(stack, certificate_id))

    refused = cli("push", certificate_id, "--to", to, "--wait", "--timeout", "10", expect=2)

    assert says in " ".join(refused.stderr.split())
    assert cli("records", certificate_id, "--json").json() == []
    assert len(_table_items(stack, certificate_id)) == before  # no record, no issuance, no event's work
    policy = cli("policies", "add", "typo", "--pattern", "*.example.com", "--to", to, expect=2)
    assert says in " ".join(policy.stderr.split())
    assert "typo" not in cli("policies", "list").stdout


def _table_items(stack, certificate_id: str) -> list[dict]:
    table = boto3.resource("dynamodb").Table(stack.provisioned.outputs["RecordsTableName"])
    return table.scan(FilterExpression="contains(PK, :id) OR certificate_id = :id",
                      ExpressionAttributeValues={":id": certificate_id})["Items"]  # fmt: skip


def test_an_unknown_certificate_is_refused_before_anything_is_emitted(cli, certificate_id):
    refused = cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60", expect=3)

    assert "is not in the inventory" in refused.stderr
    cli("records", certificate_id, expect=3)  # nothing was written


def test_bad_command_line_input_is_explained(cli):
    result = cli("push", "x", "--to", "aws-elb-us-east-1", expect=2)
    assert "PROVIDER:SERVICE=VALUE" in result.stderr


def test_records_forget_clears_what_a_typo_left_and_keeps_what_a_target_holds(stack, imported, certificate_id, cli):
    """The REJECTED records an event's typo left (another producer's: the CLI refuses typos) go with
    `records forget`; a target that holds the certificate keeps its records (exit 3, nothing removed)."""
    emit_issued(stack, certificate_id, [TargetSpec(provider="aws", service="elb", regions=["mars-north-1"])])
    cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60")
    assert {r["region"] for r in cli("records", certificate_id, "--json").json()} == {"mars-north-1", "us-east-1"}

    refused = cli("records", "forget", certificate_id, "--to", "aws:elb=us-east-1,mars-north-1", expect=3)
    assert "retract" in refused.stderr
    assert len(cli("records", certificate_id, "--json").json()) == 2  # all or nothing per target: us-east-1 first

    forgotten = cli("records", "forget", certificate_id, "--to", "aws:elb=mars-north-1")

    assert "1 record(s) forgotten" in forgotten.stdout
    assert [r["region"] for r in cli("records", certificate_id, "--json").json()] == ["us-east-1"]
    assert [h["region"] for h in cli("history", certificate_id, "--json").json()] == ["us-east-1"]
    assert not [i for i in _table_items(stack, certificate_id) if "mars-north-1" in str(i.get("SK", ""))]
