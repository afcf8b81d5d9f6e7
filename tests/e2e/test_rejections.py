"""Every push that cannot succeed ends as a REJECTED record with its reason code and a message;
nothing raises out of a handler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from certpush_cli.sample_certificates import make_certificate, other_private_key
from tests.e2e.conftest import write_material

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
        ("aws:elb=" + ",".join(f"r{i}-east-1" for i in range(11)), "TOO_MANY_REGIONS", 11),
        ("gcp:elb=us-east-1", "UNKNOWN_PROVIDER", 1),
        ("aws:cdn=us-east-1", "UNKNOWN_SERVICE", 1),
        ("aws:elb=mars-north-1", "REGION_NOT_OFFERED", 1),
        ("huaweicloud:waf=us-east-1", "REGION_NOT_OFFERED", 1),
    ],
)
def test_target_problems_are_rejected_with_their_reason(cli, imported, certificate_id, target, reason, count):
    cli("push", certificate_id, "--to", target, "--wait", "--timeout", "60", expect=1)

    records = cli("records", certificate_id, "--json").json()
    assert len(records) == count
    assert {(r["status"], r["reason"]) for r in records} == {("REJECTED", reason)}


def test_an_unknown_certificate_is_refused_before_anything_is_emitted(cli, certificate_id):
    refused = cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60", expect=3)

    assert "is not in the inventory" in refused.stderr
    cli("records", certificate_id, expect=3)  # nothing was written


def test_bad_command_line_input_is_explained(cli):
    result = cli("push", "x", "--to", "aws-elb-us-east-1", expect=2)
    assert "PROVIDER:SERVICE=VALUE" in result.stderr
