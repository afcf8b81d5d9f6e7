"""The fault suite's machinery (``tests/e2e/test_faults*.py``): its embedded stack, the scenario's
certificates and versions, driving the pushes to the end, and the check after each scenario.

The check reads every target back (ACM from moto, Huawei Cloud WAF and ELB from the simulator) and
compares it with the records, version by version:

- a SUCCEEDED record names a certificate there that holds its version (and every listener or
  protected domain it says it is attached to holds that certificate); ATTACH_FAILED names one that
  holds its version and says it is attached nowhere; a SUPERSEDED one's version is not there and a
  newer one is; a REPLACED one's certificate is there, holding another version; a FAILED or
  REJECTED one's version is not there (``record≠target`` otherwise);
- each target holds at most one copy of each version (``duplicates``);
- no target serves an older version than one that was live there, unless the push that put it back
  was a ``--rollback`` (``rollbacks w/o --rollback``);
- every issuance's summary reached a subscriber of the bus, once (``no summary``, ``summary twice``);
- nothing is in flight and every dead letter is reported by a final record.

The figures of each scenario go to ``.certpush/fault-figures.jsonl``; ``tests/conftest.py`` prints
them at the end of the run (README "Guarantees" copies them)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from cryptography import x509

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.models.domain import (
    CertificateMaterial,
    CertificateVersion,
    PushRecord,
    PushRequest,
    PushStatus,
    TargetKey,
    TargetSpec,
)
from certpush.models.events import (
    DETAIL_TYPE_ISSUED,
    DETAIL_TYPE_SUMMARY,
    EVENT_SOURCE,
    NOTIFY_SOURCE,
    CertificateIssuedDetail,
)
from certpush.providers.registry import REGISTRY
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_cli.stack import settings_for_stack
from certpush_dev.local.aws_hooks import AwsError
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import E2E_PARAMETERS, ROOT, CliResult, eventually, record_calls, write_material

FIGURES_FILE = ROOT / ".certpush" / "fault-figures.jsonl"
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
# `make test` (and CI) runs the whole suite; CERTPUSH_FAULT_SCALE=0.2 runs one certificate per
# scenario while working on it.
SCALE = float(os.environ.get("CERTPUSH_FAULT_SCALE", "1"))
LIVE = (PushStatus.SUCCEEDED, PushStatus.ATTACH_FAILED, PushStatus.REPLACED)  # the version was in the target


def scaled(certificates: int) -> int:
    return max(1, round(certificates * SCALE))


@dataclass(frozen=True)
class Targets:
    """Where a scenario's certificates go: regions per service."""

    aws_elb: tuple[str, ...] = ()
    huawei_waf: tuple[str, ...] = ()
    huawei_elb: tuple[str, ...] = ()

    def _services(self) -> list[tuple[str, str, tuple[str, ...]]]:
        return [("aws", "elb", self.aws_elb), ("huaweicloud", "waf", self.huawei_waf),
                ("huaweicloud", "elb", self.huawei_elb)]  # fmt: skip

    def options(self) -> list[str]:
        """``--to`` options for ``certpush push`` and ``certpush policies add``."""
        options: list[str] = []
        for provider, service, regions in self._services():
            if regions:
                options += ["--to", f"{provider}:{service}={','.join(regions)}"]
        return options

    def keys_of(self, service: str) -> tuple[str, ...]:
        """The regions of ``aws`` (ELB), ``waf`` or ``elb`` (Huawei Cloud)."""
        return {"aws": self.aws_elb, "waf": self.huawei_waf, "elb": self.huawei_elb}[service]

    def specs(self) -> list[TargetSpec]:
        return [TargetSpec(provider=p, service=s, regions=list(r)) for p, s, r in self._services() if r]

    def keys(self) -> set[TargetKey]:
        return {TargetKey(provider=p, service=s, region=r) for p, s, regions in self._services() for r in regions}


EVERYWHERE = Targets(tuple(AWS_REGIONS), tuple(HUAWEI_REGIONS), tuple(HUAWEI_REGIONS))


@dataclass
class Figures:
    scenario: str
    pushes: int = 0
    succeeded: int = 0
    superseded: int = 0
    replaced: int = 0
    attach_failed: int = 0
    failed: int = 0
    lost: int = 0
    duplicates: int = 0
    in_flight: int = 0
    unreported_dead_letters: int = 0
    disagreeing: int = 0
    rollbacks: int = 0
    summaries_missing: int = 0
    summaries_repeated: int = 0
    swept: int = 0
    seconds: float = 0.0
    notes: dict[str, int] = field(default_factory=dict)


def target_name(certificate_id: str, version: int) -> str:
    """The name certpush gives (certificate, version) in Huawei Cloud."""
    stub = CertificateVersion.model_construct(certificate_id=certificate_id, version=version)
    request = PushRequest.model_construct(certificate=stub, material=CertificateMaterial.model_construct())
    return request.deterministic_name


def serial_of(sample: SampleCertificate) -> int:
    return x509.load_pem_x509_certificate(sample.certificate_pem.encode()).serial_number


def _acm_serial(text: str) -> int:
    return int(text.replace(":", ""), 16) if ":" in text else int(text or 0)


class SummaryLog:
    """The issuance summaries certpush publishes, as a subscriber of the stack's bus receives them
    (an EventBridge rule to a queue of the suite's own): issuance id -> how many arrived."""

    def __init__(self, stack: EmbeddedStack) -> None:
        outputs = stack.provisioned.outputs if stack.provisioned else {}
        self._bus = outputs["EventBusName"]
        self._sqs, self._events = boto3.client("sqs"), boto3.client("events")
        self._name = f"fault-summaries-{uuid.uuid4().hex[:8]}"
        self._url = self._sqs.create_queue(QueueName=self._name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": [NOTIFY_SOURCE], "detail-type": [DETAIL_TYPE_SUMMARY]}
        self._events.put_rule(Name=self._name, EventBusName=self._bus, EventPattern=json.dumps(pattern))
        self._events.put_targets(Rule=self._name, EventBusName=self._bus, Targets=[{"Id": "q", "Arn": arn}])
        self._counts: Counter[str] = Counter()

    def counts(self) -> Counter[str]:
        while messages := self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                self._counts[json.loads(message["Body"])["detail"]["issuance_id"]] += 1
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return Counter(self._counts)

    def close(self) -> None:
        self._events.remove_targets(Rule=self._name, EventBusName=self._bus, Ids=["q"])
        self._events.delete_rule(Name=self._name, EventBusName=self._bus)
        self._sqs.delete_queue(QueueUrl=self._url)


@contextlib.contextmanager
def fault_stack(visibility_timeout: int = 2, *, paced: bool = False, **parameters: str) -> Iterator[EmbeddedStack]:
    """A fault suite's own embedded stack (it overrides the e2e tier's): no other test's message in
    flight, and the push queue's visibility timeout short from the start, so a crashed batch comes
    back in 2 s, not 6 minutes. Changed between scenarios, a poller's long poll begun before the
    change would still take messages for the old 6 minutes. ``parameters`` override the e2e tier's.
    ``paced``: the push worker paces its calls under the targets' quotas, as deployed (the e2e tier's
    stack does not: tests/e2e/conftest.py)."""
    with EmbeddedStack(
        root=ROOT,
        parameters={**E2E_PARAMETERS, **parameters},
        async_retry_delays=(0, 0),
        batching_windows=False,
        rate_limits=paced,
    ) as running:
        sqs = boto3.client("sqs")
        url = settings_for_stack(running.stack_name).push_queue_url
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(visibility_timeout)})
        # every poller has begun a receive since: the second one to return began after the change
        before = [poller.receives for poller in running.sqs_pollers]
        eventually(
            lambda: all(p.receives >= n + 2 for p, n in zip(running.sqs_pollers, before, strict=True)),
            timeout=30,
            what="a receive begun after the visibility change, on every poller",
        )
        yield running
        record_calls(running)


def clear_faults(stack: EmbeddedStack) -> None:
    stack.aws_calls.faults.clear()
    stack.aws_calls.after_faults.clear()
    stack.emulators["huaweicloud"].clear_faults()
    for poller in stack.sqs_pollers:
        poller.duplicate_deliveries = False


class Suite:
    """One scenario's certificates (their versions and targets) on the suite's stack."""

    def __init__(
        self, stack: EmbeddedStack, cli: Callable[..., CliResult], tmp_path: Path, summaries: SummaryLog
    ) -> None:
        self.stack, self.cli, self.tmp_path, self.summaries = stack, cli, tmp_path, summaries
        self.settings = settings_for_stack(stack.stack_name)
        self.outputs = stack.provisioned.outputs if stack.provisioned else {}
        # the default session, not the handlers' (whose calls the stack hooks): the suite's reads are
        # never taken for a function's, whichever thread they run on
        self.records = DynamoDBRecordsRepository(self.settings.records_table, resource=boto3.resource("dynamodb"))
        self.sqs = boto3.client("sqs")
        self.rng = random.Random(8)
        self.lock = threading.Lock()
        self.samples: dict[str, dict[int, SampleCertificate]] = {}  # certificate id -> version -> material
        self.targets: dict[str, Targets] = {}
        self.pushed: dict[str, set[int]] = {}  # the versions pushed: each requested target must have their records

    # -- set-up ------------------------------------------------------------------------------------
    def new_certificate(self, scenario: str, targets: Targets = EVERYWHERE) -> str:
        """An id for a certificate of the scenario (nothing imported yet)."""
        with self.lock:
            certificate_id = f"{scenario}-{len(self.targets)}-{self.rng.randrange(16**6):06x}"
            self.targets[certificate_id] = targets
            self.samples[certificate_id] = {}
            self.pushed[certificate_id] = set()
        return certificate_id

    def material(self, certificate_id: str) -> SampleCertificate:
        """Fresh material for the certificate's next version (not imported)."""
        return make_certificate(f"{certificate_id}.example.com")

    def imported(self, certificate_id: str, version: int, sample: SampleCertificate) -> None:
        """``sample`` is version ``version`` of the certificate in the inventory."""
        self.samples[certificate_id][version] = sample

    def import_version(self, certificate_id: str) -> int:
        """Imports fresh material as the certificate's next version (no push); returns its number."""
        sample = self.material(certificate_id)
        version = len(self.samples[certificate_id]) + 1
        result = self.cli("certificates", "import", "--id", certificate_id, "--no-push",
                          *write_material(self.tmp_path, sample))  # fmt: skip
        assert f"{certificate_id} version {version}:" in result.stdout, result.stdout
        self.imported(certificate_id, version, sample)
        return version

    def import_certificates(self, scenario: str, count: int, targets: Targets = EVERYWHERE) -> list[str]:
        """``count`` fresh certificates (version 1 each)."""
        certificate_ids = [self.new_certificate(scenario, targets) for _ in range(count)]
        for certificate_id in certificate_ids:
            self.import_version(certificate_id)
        return certificate_ids

    def push(self, certificate_id: str, *options: str, version: int | None = None, expect: int | None = 0) -> CliResult:
        """``certpush push`` of a version (default: the latest) to the certificate's targets."""
        chosen = version or max(self.samples[certificate_id])
        self.pushed[certificate_id].add(chosen)
        return self.cli("push", certificate_id, "--version", str(chosen), *self.targets[certificate_id].options(),
                        *options, expect=expect)  # fmt: skip

    def issue_twice_at_once(self, certificate_id: str) -> None:
        """Two identical "Certificate Issued" events (same issuance id) in one PutEvents call."""
        detail = CertificateIssuedDetail(
            certificate_id=certificate_id, targets=self.targets[certificate_id].specs(), issuance_id=certificate_id
        )
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": DETAIL_TYPE_ISSUED,
            "Detail": detail.model_dump_json(exclude_none=True),
            "EventBusName": self.settings.event_bus_name,
        }
        self.pushed[certificate_id].add(1)
        assert boto3.client("events").put_events(Entries=[entry, entry])["FailedEntryCount"] == 0

    def requested(self, certificate_id: str) -> set[TargetKey]:
        return self.targets[certificate_id].keys()

    # -- running -----------------------------------------------------------------------------------
    def queue_depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def current(self, certificate_id: str) -> dict[tuple[int, TargetKey], PushRecord]:
        return {(r.version, r.target): r for r in self.records.list_current(certificate_id)}

    def all_final(self, certificate_ids: Iterable[str], version: int | None = None) -> bool:
        """Every pushed version (or just ``version``) has a final record in every requested target,
        and (without ``version``) no record of these certificates is still in flight."""
        for certificate_id in certificate_ids:
            current = self.current(certificate_id)
            versions = self.pushed[certificate_id] if version is None else {version}
            for wanted in versions:
                for target in self.requested(certificate_id):
                    record = current.get((wanted, target))
                    if record is None or not record.status.is_final:
                        return False
            if version is None and any(not r.status.is_final for r in current.values()):
                return False
        return True

    def wait_final(self, certificate_ids: list[str], version: int, timeout: float = 120) -> None:
        eventually(lambda: self.all_final(certificate_ids, version), timeout, what=f"version {version} final")

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
    @staticmethod
    def acm_serials(regions: Iterable[str]) -> dict[str, dict[int, list[str]]]:
        """region -> serial -> the ARNs of the ACM certificates with that serial."""
        found: dict[str, dict[int, list[str]]] = {}
        for region in regions:
            acm = boto3.client("acm", region_name=region)
            serials: dict[int, list[str]] = {}
            for page in acm.get_paginator("list_certificates").paginate():
                for summary in page["CertificateSummaryList"]:
                    arn = summary["CertificateArn"]
                    serial = str(acm.describe_certificate(CertificateArn=arn)["Certificate"].get("Serial", "0"))
                    serials.setdefault(_acm_serial(serial), []).append(arn)
            found[region] = serials
        return found

    def held(
        self, certificate_id: str, target: TargetKey, acm: dict[str, dict[int, list[str]]], huawei: dict[str, Any]
    ) -> dict[int, list[str]]:
        """version -> the ids of the certificates that hold it in the target (read back from the emulator)."""
        samples = self.samples[certificate_id]
        if target.provider == "aws":
            by_serial = acm.get(target.region, {})
            found = {version: by_serial.get(serial_of(sample), []) for version, sample in samples.items()}
        else:
            store = huawei[target.service].get(target.region, {}).get("certificates", [])
            found = {
                version: [str(c["id"]) for c in store if c.get("name") == target_name(certificate_id, version)]
                for version in samples
            }
        return {version: ids for version, ids in found.items() if ids}

    def check(self, figures: Figures) -> None:
        acm = self.acm_serials(sorted({region for targets in self.targets.values() for region in targets.aws_elb}))
        huawei = self.stack.emulators["huaweicloud"].state()
        for certificate_id, samples in self.samples.items():
            current = self.current(certificate_id)
            for target in sorted(self.requested(certificate_id), key=str):
                held = self.held(certificate_id, target, acm, huawei)
                records = {version: r for (version, where), r in current.items() if where == target}
                for version in sorted(samples):
                    copies = held.get(version, [])
                    figures.duplicates += max(0, len(copies) - 1)
                    record = records.get(version)
                    if record is None:
                        if version in self.pushed[certificate_id]:
                            figures.pushes += 1
                            figures.lost += 1
                        elif copies:
                            figures.disagreeing += 1  # a copy no record accounts for
                        continue
                    figures.pushes += 1
                    self.judge(record, copies, held, huawei, figures)
                figures.rollbacks += unasked_rollback(records, held)
        figures.in_flight += self.queue_depth(self.settings.push_queue_url)
        figures.unreported_dead_letters += self.unreported_dead_letters()
        self.count_summaries(figures)

    def judge(
        self,
        record: PushRecord,
        copies: list[str],
        held: dict[int, list[str]],
        huawei: dict[str, Any],
        figures: Figures,
    ) -> None:
        """Counts the record by status and whether it agrees with what its target holds."""
        status = record.status
        if not status.is_final:
            figures.in_flight += 1
            return
        if status is PushStatus.SUCCEEDED:
            figures.succeeded += 1
            figures.lost += 0 if copies else 1  # a success whose certificate is not there
            agrees = record.target_id in copies and self.attachments_hold(record, huawei)
        elif status is PushStatus.ATTACH_FAILED:
            figures.attach_failed += 1  # the certificate is there, attached nowhere
            agrees = record.target_id in copies and not record.attached
        elif status is PushStatus.SUPERSEDED:
            figures.superseded += 1  # the version is not there, a newer one is
            agrees = not copies and any(version > record.version for version in held)
        elif status is PushStatus.REPLACED:
            figures.replaced += 1  # its certificate is there, holding another version
            agrees = not copies and any(record.target_id in ids for ids in held.values())
        else:
            figures.failed += 1  # FAILED or REJECTED: nothing of this version there
            agrees = not copies
        figures.disagreeing += 0 if agrees else 1

    @staticmethod
    def attachments_hold(record: PushRecord, huawei: dict[str, Any]) -> bool:
        """Every listener / protected domain the record says it is attached to holds its certificate."""
        for reference in record.attached:
            if record.provider == "aws":
                elbv2 = boto3.client("elbv2", region_name=record.region)
                held = [c["CertificateArn"] for c in elbv2.describe_listener_certificates(ListenerArn=reference)[
                    "Certificates"]]  # fmt: skip
            elif record.service == "waf":
                hosts = huawei["waf"].get(record.region, {}).get("hosts", [])
                held = [h["certificate_id"] for h in hosts if h["id"] == reference.rsplit("/", 1)[-1]]
            else:
                listeners = huawei["elb"].get(record.region, {}).get("listeners", [])
                held = [ref for li in listeners if li["id"] == reference.rsplit("/", 1)[-1]
                        for ref in [li["default_tls_container_ref"], *li["sni_container_refs"]]]  # fmt: skip
            if record.target_id not in held:
                return False
        return True

    def count_summaries(self, figures: Figures, timeout: float = 30) -> None:
        """Each issuance of the scenario's certificates (as its history items name them) has had its
        summary published once. The notifier sends it once every target is final: poll for it."""
        issuances = {h.issuance_id for c in self.samples for h in self.records.history(c, limit=1000) if h.issuance_id}
        deadline = time.monotonic() + timeout
        counts = self.summaries.counts()
        while not all(counts[issuance] for issuance in issuances) and time.monotonic() < deadline:
            time.sleep(0.2)
            counts = self.summaries.counts()
        figures.notes["issuances"] = figures.notes.get("issuances", 0) + len(issuances)
        figures.summaries_missing += sum(1 for issuance in issuances if not counts[issuance])
        figures.summaries_repeated += sum(1 for issuance in issuances if counts[issuance] > 1)

    def unreported_dead_letters(self) -> int:
        """A dead letter is reported when its push has a final record (the DLQ's alarm says to look)
        or, for the validator's failed events, when the sweeper finished the pushes it left."""
        unreported = 0
        for message in self.peek(self.outputs["PushDeadLetterQueueUrl"]):
            key = TargetKey(provider=message["provider"], service=message["service"], region=message["region"])
            record = self.current(message["certificate_id"]).get((int(message["version"]), key))
            unreported += 0 if record is not None and record.status.is_final else 1
        for invocation in self.peek(self.outputs["ValidatorFailureQueueUrl"]):
            # the validator wrote every target's record before it crashed; the messages it did send
            # were pushed, the sweeper re-queued the rest: each target ends with a final record
            certificate_id = invocation["requestPayload"]["detail"]["certificate_id"]
            current = self.current(certificate_id)
            finished = {target for _, target in current} >= self.requested(certificate_id)
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


def unasked_rollback(records: dict[int, PushRecord], held: dict[int, list[str]]) -> int:
    """1 when the target serves an older version than one that was live there (its record says it
    was: SUCCEEDED, ATTACH_FAILED or REPLACED) and the push that put it there was no ``--rollback``."""
    live = [version for version, record in records.items() if record.status in LIVE]
    if not held or not live or max(held) >= max(live):
        return 0
    serving = records.get(max(held))
    return 0 if serving is not None and serving.rollback else 1


@contextlib.contextmanager
def open_suite(
    stack: EmbeddedStack, cli: Callable[..., CliResult], tmp_path: Path, summaries: SummaryLog
) -> Iterator[Suite]:
    """A scenario's suite: the DLQs drained of earlier scenarios' messages, the faults cleared afterwards."""
    running = Suite(stack, cli, tmp_path, summaries)
    for name in ("PushDeadLetterQueueUrl", "ValidatorFailureQueueUrl"):
        running.drain(running.outputs[name])  # SQS allows one PurgeQueue a minute: receive and delete instead
    try:
        yield running
    finally:
        clear_faults(stack)


def run(
    suite: Suite,
    scenario: str,
    certificates: int,
    issue: Callable[[str], object] | None = None,
    targets: Targets = EVERYWHERE,
    **finishing: Any,
) -> Figures:
    """Imports ``certificates`` (scaled), issues each (default: ``certpush push``), drives them to the end, checks."""
    started = time.monotonic()
    figures = Figures(scenario)
    certificate_ids = suite.import_certificates(scenario, scaled(certificates), targets)
    figures.notes["import_ms"] = int((time.monotonic() - started) * 1000)
    for certificate_id in certificate_ids:
        (issue or suite.push)(certificate_id)
    figures.notes["issue_ms"] = int((time.monotonic() - started) * 1000)
    suite.drive(certificate_ids, figures)
    figures.notes["drive_ms"] = int((time.monotonic() - started) * 1000)
    return finish(suite, figures, started, **finishing)


def finish(suite: Suite, figures: Figures, started: float, *, repeated_summaries: bool = False) -> Figures:
    """Faults off, the queue settled, the check; the figures written and held to zero.
    ``repeated_summaries``: the scenario makes the notifier fail after it published (at least once)."""
    clear_faults(suite.stack)
    suite.settle()
    figures.notes["settle_ms"] = int((time.monotonic() - started) * 1000)
    suite.check(figures)
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
        figures.rollbacks,
        figures.summaries_missing,
        0 if repeated_summaries else figures.summaries_repeated,
    ) == (0, 0, 0, 0, 0, 0, 0, 0), figures
    return figures


# -- faults ------------------------------------------------------------------------------------------
def sometimes(suite: Suite, rate: float) -> bool:
    with suite.lock:
        return suite.rng.random() < rate


AWS_TARGET_ERRORS = [AwsError("ThrottlingException", 400), AwsError("ServiceUnavailable", 503)]


def aws_target_faults(suite: Suite, rate: float) -> None:
    """ACM and ELB calls of the worker: throttling, 5xx and read timeouts before the work, a
    dropped connection after ACM did it (what reaches the adapter once botocore gave up)."""

    def before(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        if function != "PushWorkerFunction" or not action.startswith(("acm:", "elasticloadbalancing:")):
            return None
        if not sometimes(suite, rate * 2 / 3):
            return None
        if sometimes(suite, 0.3):
            raise ReadTimeoutError(endpoint_url=f"https://{action.split(':')[0]}.amazonaws.com")
        with suite.lock:
            return suite.rng.choice(AWS_TARGET_ERRORS)

    def after(function: str, action: str) -> None:
        if function == "PushWorkerFunction" and action == "acm:ImportCertificate" and sometimes(suite, rate / 3):
            raise ConnectionClosedError(endpoint_url="https://acm.amazonaws.com")

    suite.stack.aws_calls.faults.append(before)
    suite.stack.aws_calls.after_faults.append(after)


def target_faults(suite: Suite, rate: float = 0.3, seed: int = 8) -> None:
    """A share of every target call failing (Huawei Cloud and AWS), every message delivered twice."""
    suite.stack.emulators["huaweicloud"].set_faults(
        failure_rate=rate, kinds=["5xx", "5xx_after", "throttle", "timeout"], seed=seed
    )
    aws_target_faults(suite, rate)
    for poller in suite.stack.sqs_pollers:
        poller.duplicate_deliveries = True


def body_of(params: dict[str, Any]) -> bytes:
    """The serialised request of a botocore ``before-call`` (JSON protocols: DynamoDB, SQS, ACM)."""
    body = params.get("body", b"")
    return body if isinstance(body, bytes) else str(body).encode()
