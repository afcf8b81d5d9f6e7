"""Benchmarks (make bench): how long pushes take end to end on the embedded stack.

Not part of `make test`: speed goals live here, never in timed tests."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.adapters.eventbridge_sns import EventBridgePublisher
from certpush.logic.issuances import Issuances
from certpush.models.domain import TargetSpec
from certpush_dev.cli.main import app
from certpush_dev.cli.stack import settings_for_stack
from certpush_dev.local.sample_certificates import make_certificate
from certpush_dev.local.stack import EmbeddedStack

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack():
    with EmbeddedStack(
        root=ROOT, parameters={"RetryBaseSeconds": "0", "PushMaxAttempts": "20", "PushMaxReceives": "30"}
    ) as running:
        yield running


def _import(tmp_path: Path, certificate_id: str) -> None:
    paths = make_certificate(f"{certificate_id}.example.com").write(tmp_path / certificate_id)
    result = CliRunner().invoke(app, ["certificates", "import", "--id", certificate_id, "--no-push",
                                      "--cert", str(paths["cert"]), "--key", str(paths["key"]),
                                      "--chain", str(paths["chain"])])  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("latency_ms", "failure_rate"), [(0, 0.0), (50, 0.0), (50, 0.3)])
def test_one_certificate_to_20_targets(benchmark, stack, tmp_path, latency_ms, failure_rate):
    """10 Huawei Cloud WAF regions + 10 Huawei Cloud ELB regions, from event to every record final."""
    settings = settings_for_stack(stack.stack_name)
    issuances = Issuances(
        records=DynamoDBRecordsRepository(settings.records_table),
        publisher=EventBridgePublisher(settings.event_bus_name),
    )
    waf = ["cn-north-4", "cn-north-1", "cn-east-3", "cn-east-2", "cn-south-1", "ap-southeast-1",
           "ap-southeast-2", "ap-southeast-3", "af-south-1", "la-south-2"]  # fmt: skip
    elb = waf
    stack.huawei.set_faults(failure_rate=failure_rate, latency_ms=latency_ms, seed=11)

    def setup():
        certificate_id = f"bench-{uuid.uuid4().hex[:8]}"
        _import(tmp_path, certificate_id)
        return (certificate_id,), {}

    def push(certificate_id: str) -> None:
        targets = [
            TargetSpec(provider="huaweicloud", service="waf", regions=waf),
            TargetSpec(provider="huaweicloud", service="elb", regions=elb),
        ]
        issuance = issuances.push(certificate_id, targets)
        progress = issuances.wait(issuance, timeout=300, interval=0.05)
        assert set(progress.outcomes.values()) == {"SUCCEEDED"}

    try:
        benchmark.pedantic(push, setup=setup, rounds=2, iterations=1)
    finally:
        stack.huawei.clear_faults()
