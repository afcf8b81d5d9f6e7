"""The fault suite: the promises hold on AWS semantics while everything that can fail does.

On the embedded stack, more than 500 pushes across these scenarios, each to AWS ELB, Huawei Cloud
WAF and Huawei Cloud ELB in 10 regions (30 pushes per certificate):

- 30% of target calls failing: Huawei Cloud (the simulator: 5xx, throttling, a dropped connection,
  a 5xx *after* the work was done) and AWS (botocore hooks: throttling, 5xx, read timeouts, a
  dropped connection after ACM did the import); every SQS message also delivered twice, in
  concurrent batches;
- the worker dying after the target accepted the certificate and before the record was written;
- DynamoDB throttling that outlasted the SDK's retries, in the worker and the notifier;
- the validator crashing mid-issuance (after its records, before its messages);
- two identical issuance events at once.

After each: every requested target has a final record; each target's store holds exactly one
certificate per (certificate, version); every record agrees with its target (a SUCCEEDED record names
the certificate that holds its version there, a FAILED one has none there); nothing is in flight;
every dead-letter / on-failure queue holds only what the records report. The figures are printed at
the end of the run (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from cryptography import x509

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.models.domain import PushRecord, PushStatus, TargetKey, TargetSpec
from certpush.models.events import DETAIL_TYPE_ISSUED, EVENT_SOURCE, CertificateIssuedDetail
from certpush.providers.registry import REGISTRY
from certpush_cli.sample_certificates import make_certificate
from certpush_cli.stack import settings_for_stack
from certpush_dev.local.aws_calls import AwsCallCounter
from certpush_dev.local.aws_hooks import AwsError
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import E2E_PARAMETERS, ROOT, eventually, record_calls, write_material

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

FIGURES_FILE = Path(__file__).resolve().parents[2] / ".certpush" / "fault-figures.jsonl"
AWS_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1",
    "eu-west-2", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
]  # fmt: skip


def _huawei_regions() -> list[str]:
    waf, elb = REGISTRY.find("huaweicloud", "waf"), REGISTRY.find("huaweicloud", "elb")
    assert waf is not None and elb is not None
    return sorted(set(waf.regions) & set(elb.regions))[:10]


HUAWEI_REGIONS = _huawei_regions()
DEADLINE_SECONDS = 240
# `make test` (and CI) runs the whole suite, 510 pushes (about two minutes on two cores);
# CERTPUSH_FAULT_SCALE=0.2 runs one certificate per scenario (150 pushes) while working on it.
SCALE = float(os.environ.get("CERTPUSH_FAULT_SCALE", "1"))


@dataclass
class Figures:
    scenario: str
    pushes: int = 0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    duplicates: int = 0
    in_flight: int = 0
    unreported_dead_letters: int = 0
    disagreeing: int = 0
    swept: int = 0
    seconds: float = 0.0
    notes: dict[str, int] = field(default_factory=dict)


class Suite:
    def __init__(self, stack: EmbeddedStack, cli: Callable[..., Any], tmp_path: Path) -> None:
        self.stack, self.cli, self.tmp_path = stack, cli, tmp_path
        self.settings = settings_for_stack(stack.stack_name)
        self.records = DynamoDBRecordsRepository(self.settings.records_table)
        self.sqs = boto3.client("sqs")
        self.rng = random.Random(8)
        self.lock = threading.Lock()

    # -- set-up ------------------------------------------------------------------------------------
    def import_certificates(self, scenario: str, count: int) -> dict[str, str]:
        """certificate id -> serial (hex) of ``count`` fresh certificates."""
        serials = {}
        for index in range(count):
            certificate_id = f"{scenario}-{index}-{self.rng.randrange(16**6):06x}"
            sample = make_certificate(f"{certificate_id}.example.com")
            self.cli("certificates", "import", "--id", certificate_id, "--no-push",
                     *write_material(self.tmp_path, sample))  # fmt: skip
            serials[certificate_id] = format(
                x509.load_pem_x509_certificate(sample.certificate_pem.encode()).serial_number, "x"
            )
        return serials

    def push(self, certificate_id: str) -> None:
        self.cli("push", certificate_id, "--to", f"aws:elb={','.join(AWS_REGIONS)}",
                 "--to", f"huaweicloud:waf={','.join(HUAWEI_REGIONS)}",
                 "--to", f"huaweicloud:elb={','.join(HUAWEI_REGIONS)}")  # fmt: skip

    def issue_twice_at_once(self, certificate_id: str) -> None:
        """Two identical "Certificate Issued" events (same issuance id) in one PutEvents call."""
        targets = [
            TargetSpec(provider="aws", service="elb", regions=AWS_REGIONS),
            TargetSpec(provider="huaweicloud", service="waf", regions=HUAWEI_REGIONS),
            TargetSpec(provider="huaweicloud", service="elb", regions=HUAWEI_REGIONS),
        ]
        detail = CertificateIssuedDetail(certificate_id=certificate_id, targets=targets, issuance_id=certificate_id)
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": DETAIL_TYPE_ISSUED,
            "Detail": detail.model_dump_json(exclude_none=True),
            "EventBusName": self.settings.event_bus_name,
        }
        assert boto3.client("events").put_events(Entries=[entry, entry])["FailedEntryCount"] == 0

    @staticmethod
    def requested(certificate_id: str) -> set[TargetKey]:
        return {TargetKey(provider="aws", service="elb", region=r) for r in AWS_REGIONS} | {
            TargetKey(provider="huaweicloud", service=s, region=r) for s in ("waf", "elb") for r in HUAWEI_REGIONS
        }

    # -- running -----------------------------------------------------------------------------------
    def queue_depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def current(self, certificate_id: str) -> dict[TargetKey, PushRecord]:
        return {r.target: r for r in self.records.list_current(certificate_id)}

    def all_final(self, certificate_ids: list[str]) -> bool:
        for certificate_id in certificate_ids:
            current = self.current(certificate_id)
            wanted = self.requested(certificate_id)
            if not wanted <= set(current) or any(not current[t].status.is_final for t in wanted):
                return False
        return True

    def drive(self, certificate_ids: list[str], figures: Figures) -> None:
        """Waits until every target is final. When nothing is queued any more but pushes are still
        in flight, the sweeper runs (as its schedule would): that is what it is for."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:  # past it, the invariants report what is left
            time.sleep(1)
            if self.queue_depth(self.settings.push_queue_url):
                continue  # cheap to ask; the records are read once the queue is empty
            if not self.in_flight() and self.all_final(certificate_ids):
                return
            outcome = self.stack.run_schedule("SweeperFunction").result(timeout=30)
            figures.swept += len(outcome["requeued"]) + len(outcome["ended"])

    def in_flight(self) -> bool:
        return any(self.records.by_status(status, limit=1) for status in (PushStatus.PENDING, PushStatus.IN_PROGRESS))

    def settle(self) -> None:
        """Whatever is still queued (stale duplicates, sweeper re-queues) is consumed."""
        deadline = time.monotonic() + 90
        while self.queue_depth(self.settings.push_queue_url) and time.monotonic() < deadline:
            time.sleep(0.5)

    # -- checking ----------------------------------------------------------------------------------
    def acm_serials(self) -> dict[str, dict[int, list[str]]]:
        """region -> serial -> the ARNs of the ACM certificates with that serial."""
        found: dict[str, dict[int, list[str]]] = {}
        for region in AWS_REGIONS:
            acm = boto3.client("acm", region_name=region)
            serials: dict[int, list[str]] = {}
            for page in acm.get_paginator("list_certificates").paginate():
                for summary in page["CertificateSummaryList"]:
                    arn = summary["CertificateArn"]
                    serial = str(acm.describe_certificate(CertificateArn=arn)["Certificate"].get("Serial", "0"))
                    serials.setdefault(int(serial.replace(":", ""), 16) if ":" in serial else int(serial), []).append(
                        arn
                    )
            found[region] = serials
        return found

    def check(self, serials: dict[str, str], figures: Figures) -> None:
        acm = self.acm_serials()
        huawei = self.stack.huawei.state()
        for certificate_id, serial in serials.items():
            current = self.current(certificate_id)
            name = f"certpush-{certificate_id}-v1"
            for target in sorted(self.requested(certificate_id), key=str):
                figures.pushes += 1
                record = current.get(target)
                if target.provider == "aws":
                    holders = acm[target.region].get(int(serial, 16), [])
                else:
                    store = huawei[target.service].get(target.region, {}).get("certificates", [])
                    holders = [str(c.get("id")) for c in store if c.get("name") == name]
                copies = len(holders)
                figures.duplicates += max(0, copies - 1)
                if record is None:
                    figures.lost += 1
                elif not record.status.is_final:
                    figures.in_flight += 1
                elif record.status.value == "SUCCEEDED":
                    figures.succeeded += 1
                    figures.lost += 0 if copies else 1  # a success whose certificate is not there
                    figures.disagreeing += 0 if record.target_id in holders else 1
                else:
                    figures.failed += 1
                    # a push that did not succeed left nothing there, unless its record says so (ATTACH_FAILED)
                    figures.disagreeing += 1 if copies and record.target_id not in holders else 0
        figures.in_flight += self.queue_depth(self.settings.push_queue_url)
        figures.unreported_dead_letters += self.unreported_dead_letters()

    def unreported_dead_letters(self) -> int:
        """A dead letter is reported when its push has a final record (the DLQ's alarm says to look)
        or, for the validator's failed events, when the sweeper finished the pushes it left."""
        unreported = 0
        outputs = self.stack.provisioned.outputs if self.stack.provisioned else {}
        for message in self.peek(outputs["PushDeadLetterQueueUrl"]):
            key = TargetKey(provider=message["provider"], service=message["service"], region=message["region"])
            record = self.current(message["certificate_id"]).get(key)
            unreported += 0 if record is not None and record.status.is_final else 1
        for invocation in self.peek(outputs["ValidatorFailureQueueUrl"]):
            # the validator wrote every target's record before it crashed; the messages it did send
            # were pushed, the sweeper re-queued the rest: each target ends with a final record
            certificate_id = invocation["requestPayload"]["detail"]["certificate_id"]
            current = self.current(certificate_id)
            finished = set(current) >= self.requested(certificate_id)
            unreported += 0 if finished and all(r.status.is_final for r in current.values()) else 1
        return unreported

    def drain(self, url: str) -> None:
        while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def peek(self, url: str) -> list[dict[str, Any]]:
        """The bodies in a queue; the messages are visible again afterwards (for the next drain)."""
        bodies: dict[str, dict[str, Any]] = {}
        handles = []
        for _ in range(5):
            response = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            for message in response.get("Messages", []):
                bodies[message["MessageId"]] = json.loads(message["Body"])
                handles.append(message["ReceiptHandle"])
            if not response.get("Messages"):
                break
        for handle in handles:
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return list(bodies.values())


@pytest.fixture(scope="module")
def stack(aws_calls: AwsCallCounter) -> Iterator[EmbeddedStack]:
    """The suite's own embedded stack (it overrides the e2e tier's): no other test's message in
    flight, and the push queue's visibility timeout short from the start, so a crashed batch comes
    back in 2 s, not 6 minutes. Changed between scenarios, a poller's long poll begun before the
    change would still take messages for the old 6 minutes."""
    with EmbeddedStack(root=ROOT, parameters=E2E_PARAMETERS, async_retry_delays=(0, 0)) as running:
        sqs = boto3.client("sqs")
        url = settings_for_stack(running.stack_name).push_queue_url
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "2"})
        # every poller has begun a receive since: the second one to return began after the change
        before = [poller.receives for poller in running.sqs_pollers]
        eventually(
            lambda: all(p.receives >= n + 2 for p, n in zip(running.sqs_pollers, before, strict=True)),
            timeout=30,
            what="a receive begun after the visibility change, on every poller",
        )
        yield running
        record_calls(running)


@pytest.fixture
def suite(stack: EmbeddedStack, cli: Callable[..., Any], tmp_path: Path) -> Iterator[Suite]:
    """The DLQs drained of earlier scenarios' messages, the faults cleared afterwards."""
    running = Suite(stack, cli, tmp_path)
    outputs = stack.provisioned.outputs if stack.provisioned else {}
    for name in ("PushDeadLetterQueueUrl", "ValidatorFailureQueueUrl"):
        running.drain(outputs[name])  # SQS allows one PurgeQueue a minute: receive and delete instead
    try:
        yield running
    finally:
        stack.aws_calls.faults.clear()
        stack.aws_calls.after_faults.clear()
        stack.huawei.clear_faults()
        for poller in stack.sqs_pollers:
            poller.duplicate_deliveries = False


def run(suite: Suite, scenario: str, certificates: int, issue: Callable[[str], None] | None = None) -> Figures:
    started = time.monotonic()
    figures = Figures(scenario)
    serials = suite.import_certificates(scenario, max(1, round(certificates * SCALE)))
    figures.notes["import_ms"] = int((time.monotonic() - started) * 1000)
    for certificate_id in serials:
        (issue or suite.push)(certificate_id)
    figures.notes["issue_ms"] = int((time.monotonic() - started) * 1000)
    suite.drive(list(serials), figures)
    figures.notes["drive_ms"] = int((time.monotonic() - started) * 1000)
    return finish(suite, serials, figures, started)


def finish(suite: Suite, serials: dict[str, str], figures: Figures, started: float) -> Figures:
    suite.stack.aws_calls.faults.clear()
    suite.stack.aws_calls.after_faults.clear()
    suite.stack.huawei.clear_faults()
    suite.settle()
    figures.notes["settle_ms"] = int((time.monotonic() - started) * 1000)
    suite.check(serials, figures)
    figures.seconds = round(time.monotonic() - started, 1)
    FIGURES_FILE.parent.mkdir(exist_ok=True)
    with FIGURES_FILE.open("a") as report:
        report.write(json.dumps(asdict(figures)) + "\n")
    assert (
        figures.lost,
        figures.duplicates,
        figures.in_flight,
        figures.unreported_dead_letters,
        figures.disagreeing,
    ) == (0, 0, 0, 0, 0), figures
    return figures


# -- faults ------------------------------------------------------------------------------------------
def _sometimes(suite: Suite, rate: float) -> bool:
    with suite.lock:
        return suite.rng.random() < rate


AWS_TARGET_ERRORS = [AwsError("ThrottlingException", 400), AwsError("ServiceUnavailable", 503)]


def aws_target_faults(suite: Suite, rate: float) -> None:
    """ACM and ELB calls of the worker: throttling, 5xx and read timeouts before the work, a
    dropped connection after ACM did it (what reaches the adapter once botocore gave up)."""

    def before(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        if function != "PushWorkerFunction" or not action.startswith(("acm:", "elasticloadbalancing:")):
            return None
        if not _sometimes(suite, rate * 2 / 3):
            return None
        if _sometimes(suite, 0.3):
            raise ReadTimeoutError(endpoint_url=f"https://{action.split(':')[0]}.amazonaws.com")
        with suite.lock:
            return suite.rng.choice(AWS_TARGET_ERRORS)

    def after(function: str, action: str) -> None:
        if function == "PushWorkerFunction" and action == "acm:ImportCertificate" and _sometimes(suite, rate / 3):
            raise ConnectionClosedError(endpoint_url="https://acm.amazonaws.com")

    suite.stack.aws_calls.faults.append(before)
    suite.stack.aws_calls.after_faults.append(after)


class WorkerKilled(Exception):
    """The invocation died: no record written, the message comes back after its visibility timeout."""


# -- scenarios ---------------------------------------------------------------------------------------
def test_target_faults_duplicate_deliveries_and_concurrent_batches(suite: Suite):
    suite.stack.huawei.set_faults(failure_rate=0.3, kinds=["5xx", "5xx_after", "throttle", "timeout"], seed=8)
    aws_target_faults(suite, 0.3)
    for poller in suite.stack.sqs_pollers:
        poller.duplicate_deliveries = True

    figures = run(suite, "target-faults", certificates=6)

    assert figures.pushes == 30 * max(1, round(6 * SCALE))


def test_worker_killed_after_the_target_accepted_and_before_the_record(suite: Suite):
    def kill(function: str, action: str, params: dict[str, Any]) -> None:
        body = params.get("body", b"")
        succeeded = b'"SUCCEEDED"' in (body if isinstance(body, bytes) else str(body).encode())
        worker_finishing = function == "PushWorkerFunction" and action == "dynamodb:TransactWriteItems"
        if worker_finishing and succeeded and _sometimes(suite, 0.3):
            raise WorkerKilled("killed after the target accepted the certificate")

    suite.stack.aws_calls.faults.append(kill)

    figures = run(suite, "worker-killed", certificates=3)

    assert figures.pushes == 30 * max(1, round(3 * SCALE))


def test_dynamodb_throttling_after_the_sdk_s_retries(suite: Suite):
    def throttle(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        mine = function in ("PushWorkerFunction", "NotifierFunction") and action.startswith("dynamodb:")
        return AwsError("ProvisionedThroughputExceededException", 400) if mine and _sometimes(suite, 0.1) else None

    suite.stack.aws_calls.faults.append(throttle)

    figures = run(suite, "dynamodb-throttling", certificates=3)

    assert figures.pushes == 30 * max(1, round(3 * SCALE))


def test_validator_crashing_mid_issuance(suite: Suite):
    def crash(function: str, action: str, params: dict[str, Any]) -> None:
        if function == "ValidatorFunction" and action == "sqs:SendMessageBatch" and _sometimes(suite, 0.5):
            raise WorkerKilled("the validator died after writing its records")

    suite.stack.aws_calls.faults.append(crash)

    figures = run(suite, "validator-crash", certificates=3)

    assert figures.pushes == 30 * max(1, round(3 * SCALE))


def test_two_identical_issuance_events_at_once(suite: Suite):
    figures = run(suite, "identical-events", certificates=2, issue=suite.issue_twice_at_once)

    assert figures.pushes == 30 * max(1, round(2 * SCALE))
