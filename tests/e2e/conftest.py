"""End-to-end tier: the embedded stack (moto server, Huawei Cloud simulator, pollers) in this
process, driven through the CLI exactly as a user types it."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from typer.testing import CliRunner

from certpush_cli.main import app
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_dev.local.aws_calls import AwsCallCounter, install_on_handlers_session
from certpush_dev.local.stack import EmbeddedStack
from tests.least_privilege import write_calls

if TYPE_CHECKING:  # the fault suite's machinery imports this module
    from tests.e2e.fault_suite import Suite, SummaryLog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def aws_calls() -> AwsCallCounter:
    """Every AWS call the handlers make (hooked before the stack creates its clients)."""
    return install_on_handlers_session(AwsCallCounter())


# no backoff between attempts and room for many (the fault tests fail 30% of requests); a push
# untouched for a second is stuck (the sweeper runs only when a test fires it)
E2E_PARAMETERS = {
    "RetryBaseSeconds": "0",
    "PushSettleSeconds": "0",  # the fault suite's timeouts retry at once (its late-create scenario sets its own)
    "PushMaxAttempts": "20",
    "PushMaxReceives": "30",
    "StuckAfterSeconds": "1",
    # the fault suite shortens the push queue's visibility timeout to 2 s; a lease this long lets a
    # redelivery take over from a killed worker within seconds (on AWS: 90 s lease, 360 s visibility)
    "PushLeaseSeconds": "10",
}


_FILES_RUN: set[str] = set()


@pytest.fixture(scope="package")
def stack(aws_calls: AwsCallCounter) -> Iterator[EmbeddedStack]:
    # package scope, not session: with `-n 2 --dist loadfile` a worker may run an integration file
    # between two e2e files, and the integration tier's moto.mock_aws() resets the in-memory
    # backends this in-process moto server shares. The stack stops when a worker leaves the e2e
    # files and starts afresh when it comes back.
    # No SQS batching window (0, which AWS allows too: the template's 1 s would be added to every push a
    # test waits for; tests/integration/test_pollers.py tests the window) and no pacing under the targets'
    # quotas (the emulators do not throttle here and ACM's 1 import a second per region would add minutes;
    # the late-create fault scenarios and the mass renewal run paced).
    with EmbeddedStack(
        root=ROOT, parameters=E2E_PARAMETERS, async_retry_delays=(0, 0), batching_windows=False, rate_limits=False
    ) as running:
        yield running
        record_calls(running)


def record_calls(running: EmbeddedStack) -> None:
    """What each function called, for the least-privilege check at the end of the run (tests/conftest.py)."""
    calls: dict[str, set[str]] = {}
    for function, action in running.aws_calls.calls:
        if function:
            calls.setdefault(function, set()).add(action)
    write_calls(os.environ.get("PYTEST_XDIST_WORKER", "main"), calls, _FILES_RUN)


@pytest.fixture(autouse=True)
def _note_file(request: pytest.FixtureRequest) -> None:
    _FILES_RUN.add(request.path.name)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def cli(stack: EmbeddedStack) -> Callable[..., CliResult]:
    runner = CliRunner()

    def run(*args: str, expect: int | None = 0) -> CliResult:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        outcome = CliResult(result.exit_code, result.stdout, result.stderr)
        if expect is not None:
            assert result.exit_code == expect, f"certpush {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return outcome

    return run


# the fault suite's (tests/e2e/test_faults*.py, each on a ``stack`` of its own): what its scenarios share
@pytest.fixture(scope="module")
def summaries(stack: EmbeddedStack) -> Iterator[SummaryLog]:
    from tests.e2e.fault_suite import SummaryLog

    log = SummaryLog(stack)
    yield log
    log.close()


@pytest.fixture
def suite(
    stack: EmbeddedStack, cli: Callable[..., CliResult], tmp_path: Path, summaries: SummaryLog
) -> Iterator[Suite]:
    from tests.e2e.fault_suite import open_suite

    with open_suite(stack, cli, tmp_path, summaries) as running:
        yield running


@pytest.fixture
def certificate_id() -> str:
    return f"cert-{uuid.uuid4().hex[:10]}"


def write_material(tmp_path: Path, sample: SampleCertificate, key_pem: str | None = None) -> list[str]:
    paths = sample.write(tmp_path / uuid.uuid4().hex[:6])
    if key_pem is not None:
        paths["key"].write_text(key_pem)
    return ["--cert", str(paths["cert"]), "--chain", str(paths["chain"]), "--key", str(paths["key"])]


@pytest.fixture
def imported(cli: Callable[..., CliResult], tmp_path: Path, certificate_id: str) -> SampleCertificate:
    """A valid certificate imported under ``certificate_id`` (no automatic push)."""
    sample = make_certificate(f"{certificate_id}.example.com")
    cli("certificates", "import", "--id", certificate_id, "--no-push", *write_material(tmp_path, sample))
    return sample


def eventually(check: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Waits for state to become true (polls the state, never sleeps as a substitute for it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def acm_certificates(region: str, serial_hex: str) -> list[str]:
    """ARNs of ACM certificates in ``region`` whose serial is ``serial_hex``."""
    acm = boto3.client("acm", region_name=region)
    found = []
    for summary in acm.list_certificates()["CertificateSummaryList"]:
        described = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
        serial = str(described.get("Serial", ""))
        value = int(serial.replace(":", ""), 16) if ":" in serial else int(serial or 0)
        if value == int(serial_hex, 16):
            found.append(summary["CertificateArn"])
    return found


def emit_issued(stack: EmbeddedStack, certificate_id: str, targets: list[Any], timeout: float = 60) -> list[Any]:
    """A "Certificate Issued" event put on the stack's bus as another producer would (not through the
    CLI, which refuses targets certpush does not know): the validator decides. Returns the records of
    the issuance once every target is final."""
    from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
    from certpush.adapters.eventbridge_sns import EventBridgePublisher
    from certpush.clock import SystemClock
    from certpush.logic.issuances import Issuances

    outputs = stack.provisioned.outputs if stack.provisioned else {}
    issuances = Issuances(
        records=DynamoDBRecordsRepository(outputs["RecordsTableName"]),
        publisher=EventBridgePublisher(outputs["EventBusName"]),
        clock=SystemClock(),
    )
    issuance_id = issuances.push(certificate_id, targets)
    return issuances.records_of(issuances.wait(issuance_id, timeout))
