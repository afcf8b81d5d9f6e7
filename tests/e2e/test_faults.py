"""The fault suite: the promises hold on AWS semantics while everything that can fail does, and
as real outages order things (issue 16).

On the suite's own embedded stack (``fault_suite.fault_stack``), more than 500 pushes, most of
them each to AWS ELB, Huawei Cloud WAF and Huawei Cloud ELB in 10 regions (30 pushes per
certificate):

- 30% of target calls failing: Huawei Cloud (the simulator: 5xx, throttling, a dropped connection,
  a 5xx *after* the work was done) and AWS (botocore hooks: throttling, 5xx, read timeouts, a
  dropped connection after ACM did the import); every SQS message also delivered twice, in
  concurrent batches;
- the worker dying after the target accepted the certificate and before the record was written;
- DynamoDB throttling that outlasted the SDK's retries, in the worker and the notifier;
- the validator crashing mid-issuance (after its records, before its messages);
- two identical issuance events at once;

and the orderings real outages produce:

- an older version's retry going through after a newer version succeeded (its backoff is longer);
- a forced push and a replay of an older version after a newer one, then a rollback;
- the listener / protected domain an attach names deleted between two versions;
- a push longer than the lease (a slow target), and a worker that lost its lease meanwhile;
- the same certificate imported by several processes at the same instant;
- the Huawei Cloud AK/SK rotated while pushes are under way.

(A create that lands after the client timed out: ``test_faults_late_creates.py``, on a stack whose
settle wait is not zero.)

After each, ``fault_suite.finish`` reads every target back and holds the figures to zero: nothing
lost, no duplicate copy, no record that disagrees with its target, no rollback without
``--rollback``, one summary per issuance, nothing in flight, every dead letter reported."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from certpush.models.domain import PushStatus
from certpush_dev.local.aws_calls import AwsCallCounter
from certpush_dev.local.aws_hooks import AwsError
from certpush_dev.local.fixtures import create_https_listener
from certpush_dev.local.stack import EmbeddedStack
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator, SimResponse
from tests.e2e.conftest import eventually, write_material
from tests.e2e.fault_suite import (
    HUAWEI_REGIONS,
    Figures,
    Suite,
    Targets,
    body_of,
    fault_stack,
    finish,
    run,
    scaled,
    sometimes,
    target_faults,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

LEASE_SECONDS = 10  # the e2e stacks' PushLeaseSeconds (tests/e2e/conftest.py)


@pytest.fixture(scope="module")
def stack(aws_calls: AwsCallCounter) -> Iterator[EmbeddedStack]:
    with fault_stack() as running:
        yield running


class WorkerKilled(Exception):
    """The invocation died: no record written, the message comes back after its visibility timeout."""


# -- faults as they come ------------------------------------------------------------------------------
def test_target_faults_duplicate_deliveries_and_concurrent_batches(suite: Suite):
    target_faults(suite, 0.3)

    figures = run(suite, "target-faults", certificates=6)

    assert figures.pushes == 30 * scaled(6)


def test_worker_killed_after_the_target_accepted_and_before_the_record(suite: Suite):
    def kill(function: str, action: str, params: dict[str, Any]) -> None:
        worker_finishing = function == "PushWorkerFunction" and action == "dynamodb:TransactWriteItems"
        if worker_finishing and b'"SUCCEEDED"' in body_of(params) and sometimes(suite, 0.3):
            raise WorkerKilled("killed after the target accepted the certificate")

    suite.stack.aws_calls.faults.append(kill)

    figures = run(suite, "worker-killed", certificates=3)

    assert figures.pushes == 30 * scaled(3)


def test_dynamodb_throttling_after_the_sdk_s_retries(suite: Suite):
    def throttle(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        mine = function in ("PushWorkerFunction", "NotifierFunction") and action.startswith("dynamodb:")
        return AwsError("ProvisionedThroughputExceededException", 400) if mine and sometimes(suite, 0.1) else None

    suite.stack.aws_calls.faults.append(throttle)

    # a summary is published at least once: the notifier marks it sent after publishing, and a
    # throttled mark sends it again (consumers dedupe by issuance_id)
    figures = run(suite, "dynamodb-throttling", certificates=3, repeated_summaries=True)

    assert figures.pushes == 30 * scaled(3)


def test_validator_crashing_mid_issuance(suite: Suite):
    def crash(function: str, action: str, params: dict[str, Any]) -> None:
        if function == "ValidatorFunction" and action == "sqs:SendMessageBatch" and sometimes(suite, 0.5):
            raise WorkerKilled("the validator died after writing its records")

    suite.stack.aws_calls.faults.append(crash)

    figures = run(suite, "validator-crash", certificates=3)

    assert figures.pushes == 30 * scaled(3)


def test_two_identical_issuance_events_at_once(suite: Suite):
    figures = run(suite, "identical-events", certificates=2, issue=suite.issue_twice_at_once)

    assert figures.pushes == 30 * scaled(2)


# -- the orderings real outages produce -----------------------------------------------------------------
# each scenario has regions of its own: what one leaves in a target is never another's to judge
OLDER_LAST = Targets(("eu-west-2", "ap-southeast-2"), tuple(HUAWEI_REGIONS[:2]), tuple(HUAWEI_REGIONS[:2]))
FORCED = Targets(("us-west-1", "eu-west-1"), tuple(HUAWEI_REGIONS[2:4]), tuple(HUAWEI_REGIONS[2:4]))
ATTACHED = Targets(("us-east-2", "eu-central-1"), tuple(HUAWEI_REGIONS[4:6]), tuple(HUAWEI_REGIONS[4:6]))
LEASE_HOLDS = Targets(("us-west-2", "ap-northeast-1"), tuple(HUAWEI_REGIONS[6:7]), tuple(HUAWEI_REGIONS[6:7]))
LEASE_LOST = Targets(("ap-southeast-1", "us-east-1"))
SAME_INSTANT = Targets(("ca-central-1",), tuple(HUAWEI_REGIONS[7:8]), tuple(HUAWEI_REGIONS[7:8]))
ROTATED = Targets((), tuple(HUAWEI_REGIONS), tuple(HUAWEI_REGIONS))
TARGET_ACTIONS = ("acm:", "tagging:", "elasticloadbalancing:")


@contextmanager
def regional_outage(suite: Suite, *, permanent: bool) -> Iterator[None]:
    """Every target refuses: Huawei Cloud 503 for every request (``permanent``: WAF and ELB not
    offered in the targets' regions, WAF.00012005 / APIGW.0101), the worker's ACM, tagging and ELB
    calls 503 ServiceUnavailable (``permanent``: AccessDeniedException)."""
    huawei = suite.stack.emulators["huaweicloud"]
    regions = {(s, r) for targets in suite.targets.values() for s, rs in
               (("waf", targets.huawei_waf), ("elb", targets.huawei_elb)) for r in rs}  # fmt: skip
    error = AwsError("AccessDeniedException", 400) if permanent else AwsError("ServiceUnavailable", 503)

    def unavailable(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        return error if function == "PushWorkerFunction" and action.startswith(TARGET_ACTIONS) else None

    for service, region in regions:
        if permanent:
            huawei.set_service_purchased(service, region, purchased=False)
    if not permanent:
        huawei.set_faults(failure_rate=1.0, kinds=["5xx"])
    suite.stack.aws_calls.faults.append(unavailable)
    try:
        yield
    finally:
        suite.stack.aws_calls.faults.remove(unavailable)
        huawei.clear_faults()
        for service, region in regions:
            huawei.set_service_purchased(service, region, purchased=True)


class LongBackoff:
    """The push worker's backoff grown as an outage grows it (RetryBaseSeconds doubling with every
    attempt: minutes, where this stack's is 0 s). A fault on the worker's ChangeMessageVisibility
    (the backoff itself) asks SQS for 600 s instead (the request rewritten before it is signed), and
    keeps the receipt handle; ``release()`` ends those waits, as the backoffs running out."""

    def __init__(self, suite: Suite) -> None:
        self._suite = suite
        self._lock = threading.Lock()
        self.handles: list[tuple[str, str]] = []

    def __call__(self, function: str, action: str, params: dict[str, Any]) -> None:
        if function != "PushWorkerFunction" or action != "sqs:ChangeMessageVisibility":
            return
        request = json.loads(body_of(params))
        request["VisibilityTimeout"] = 600
        params["body"] = json.dumps(request).encode()
        with self._lock:
            self.handles.append((request["QueueUrl"], request["ReceiptHandle"]))

    def release(self) -> None:
        with self._lock:
            handles, self.handles = self.handles, []
        for url, handle in handles:
            try:
                self._suite.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
            except self._suite.sqs.exceptions.ClientError:
                continue  # a handle of an earlier receive of the same message (the later one counts)


def _records(suite: Suite, certificate_id: str) -> dict[tuple[int, str], Any]:
    """(version, "provider:service:region") -> record."""
    return {(v, str(t)): r for (v, t), r in suite.current(certificate_id).items()}


def _statuses(suite: Suite, certificate_ids: list[str], version: int) -> Counter[str]:
    return Counter(r.status.value for c in certificate_ids for (v, _), r in suite.current(c).items() if v == version)


def test_an_older_version_retried_after_a_newer_one_succeeded(suite: Suite):
    """v1's pushes fail in a regional outage and wait out their backoff; v2 is imported and pushed
    the moment the outage ends (SUCCEEDED); v1's retries come last: SUPERSEDED, the targets still
    serve v2 (ACM, Huawei Cloud WAF and ELB, read back)."""
    started, figures = time.monotonic(), Figures("older-retried-last")
    certificate_ids = suite.import_certificates("older-last", scaled(2), OLDER_LAST)
    pushes = len(OLDER_LAST.keys()) * len(certificate_ids)
    backoff = LongBackoff(suite)
    suite.stack.aws_calls.faults.append(backoff)
    with regional_outage(suite, permanent=False):
        for certificate_id in certificate_ids:
            suite.push(certificate_id)

        def waiting() -> bool:
            """Every v1 push noted the outage, gave its lease back and waits out its backoff; no worker
            is running (a message received and not yet claimed is 'not visible' too, and its record
            still shows the last attempt's outage: it would go through once the outage ends)."""
            if suite.stack.invokers["PushWorkerFunction"].active:
                return False
            records = [r for c in certificate_ids for r in suite.current(c).values()]
            noted = len(records) == pushes and all(r.reason and r.lease_token is None for r in records)
            depth = suite.sqs.get_queue_attributes(
                QueueUrl=suite.settings.push_queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            parked = depth["ApproximateNumberOfMessages"] == "0" and len(backoff.handles) >= pushes
            return noted and parked and depth["ApproximateNumberOfMessagesNotVisible"] == str(pushes)

        eventually(waiting, timeout=60, what="every push of version 1 waiting out its backoff")
    suite.stack.aws_calls.faults.remove(backoff)
    assert _statuses(suite, certificate_ids, 1) == {"IN_PROGRESS": pushes}

    for certificate_id in certificate_ids:
        suite.import_version(certificate_id)
        suite.push(certificate_id)
    suite.wait_final(certificate_ids, version=2)
    assert _statuses(suite, certificate_ids, 2) == {"SUCCEEDED": pushes}
    backoff.release()
    suite.drive(certificate_ids, figures)

    figures = finish(suite, figures, started)

    assert (figures.superseded, figures.succeeded) == (pushes, pushes), figures
    for certificate_id in certificate_ids:
        for (version, _), record in _records(suite, certificate_id).items():
            if version == 1:
                assert (record.reason, record.rollback) == ("NEWER_VERSION", False), record
                assert "holds version 2" in (record.message or "")


def test_a_forced_push_and_a_replay_of_an_older_version_then_a_rollback(suite: Suite):
    """v1 fails in an outage; v2 goes out; ``replay --version 1`` and ``push --version 1 --force``
    end SUPERSEDED and change nothing; ``push --version 1 --rollback`` puts v1 back (renewed in
    place) and v2's records say REPLACED. Target faults and duplicate deliveries after the outage."""
    started, figures = time.monotonic(), Figures("older-forced-rollback")
    certificate_ids = suite.import_certificates("older-forced", scaled(1), FORCED)
    pushes = len(FORCED.keys()) * len(certificate_ids)
    with regional_outage(suite, permanent=True):
        for certificate_id in certificate_ids:
            suite.push(certificate_id, "--wait", "--timeout", "60", expect=1)
    assert _statuses(suite, certificate_ids, 1) == {"FAILED": pushes}
    target_faults(suite, 0.3, seed=16)
    for certificate_id in certificate_ids:
        suite.import_version(certificate_id)
        suite.push(certificate_id, "--wait", "--timeout", "120")
        suite.cli("replay", certificate_id, "--version", "1", "--wait", "--timeout", "120")
        suite.push(certificate_id, "--force", "--wait", "--timeout", "120", version=1)
    assert _statuses(suite, certificate_ids, 1) == {"SUPERSEDED": pushes}
    midway = Figures("older-forced-midway")
    suite.check(midway)  # the refusals changed nothing: every target serves v2
    assert (midway.succeeded, midway.superseded, midway.disagreeing, midway.rollbacks) == (pushes, pushes, 0, 0)

    for certificate_id in certificate_ids:
        rolled = suite.push(certificate_id, "--rollback", "--wait", "--timeout", "120", version=1)
        assert "rollback" in rolled.stdout
    suite.drive(certificate_ids, figures)

    figures = finish(suite, figures, started)

    assert (figures.succeeded, figures.replaced) == (pushes, pushes), figures
    for certificate_id in certificate_ids:
        records = _records(suite, certificate_id)
        for (version, where), record in records.items():
            if version == 1:
                assert (record.status, record.rollback) == (PushStatus.SUCCEEDED, True), record
                assert record.target_id == records[(2, where)].target_id  # renewed in place, back to v1
            else:
                assert (record.status, record.replaced_by) == (PushStatus.REPLACED, 1), record
        history = suite.records.history(certificate_id, limit=100)
        assert sum(1 for h in history if h.status is PushStatus.SUPERSEDED) == 2 * len(FORCED.keys())


def test_the_attach_target_deleted_between_versions(suite: Suite):
    """v1 is pushed and attached (an AWS listener, a WAF protected domain, an ELB listener per
    region); those are deleted; v2 is pushed with the same attachments under target faults:
    ATTACH_FAILED, v2 renewed in place (it is there, read back), v1 REPLACED. Then ``replay
    --drop-attach`` attaches only: no upload, SUCCEEDED."""
    started, figures = time.monotonic(), Figures("attach-target-deleted")
    certificate_ids = suite.import_certificates("attach-gone", scaled(1), ATTACHED)
    pushes = len(ATTACHED.keys()) * len(certificate_ids)
    huawei = suite.stack.emulators["huaweicloud"]
    references: dict[str, list[str]] = {}
    for index, certificate_id in enumerate(certificate_ids):
        aws = {
            region: create_https_listener(region, f"gone-{index}-{certificate_id[-6:]}") for region in ATTACHED.aws_elb
        }
        hosts = {region: huawei.add_waf_host(region, f"{certificate_id}.example.com") for region in ATTACHED.huawei_waf}
        listeners = {region: huawei.add_elb_listener(region) for region in ATTACHED.huawei_elb}
        references[certificate_id] = (
            [f"aws:elb={arn}" for arn in aws.values()]
            + [f"huaweicloud:waf={region}/{host}" for region, host in hosts.items()]
            + [f"huaweicloud:elb={region}/{listener}" for region, listener in listeners.items()]
        )
        attach = [option for reference in references[certificate_id] for option in ("--attach", reference)]
        suite.push(certificate_id, *attach, "--wait", "--timeout", "120")
        assert all(r.attached for r in suite.current(certificate_id).values())
        for region, arn in aws.items():
            boto3.client("elbv2", region_name=region).delete_listener(ListenerArn=arn)
        for region, host in hosts.items():
            huawei.remove_waf_host(region, host)
        for region, listener in listeners.items():
            huawei.remove_elb_listener(region, listener)
        suite.import_version(certificate_id)
    target_faults(suite, 0.3, seed=24)
    for certificate_id in certificate_ids:
        attach = [option for reference in references[certificate_id] for option in ("--attach", reference)]
        suite.push(certificate_id, *attach, "--wait", "--timeout", "120", expect=1)
    suite.drive(certificate_ids, figures)

    figures = finish(suite, figures, started)

    assert (figures.attach_failed, figures.replaced) == (pushes, pushes), figures
    for certificate_id in certificate_ids:
        records = _records(suite, certificate_id)
        for (version, where), record in records.items():
            if version == 2:
                assert record.reason in ("LISTENER_NOT_FOUND", "WAF.00011004", "ELB.8904"), record
                assert record.target_id == records[(1, where)].target_id and record.attached == ()
    imports = suite.stack.aws_calls.calls[("PushWorkerFunction", "acm:ImportCertificate")]
    uploads = {k: v for k, v in huawei.state()["stats"].items() if k.endswith((".create", ".update"))}
    for certificate_id in certificate_ids:
        dropped = [option for reference in references[certificate_id]
                   for option in ("--drop-attach", reference.split("=", 1)[1])]  # fmt: skip
        suite.cli("replay", certificate_id, *dropped, "--wait", "--timeout", "60")
        assert {r.status for (v, _), r in suite.current(certificate_id).items() if v == 2} == {PushStatus.SUCCEEDED}
    assert suite.stack.aws_calls.calls[("PushWorkerFunction", "acm:ImportCertificate")] == imports  # attached only
    assert {k: v for k, v in huawei.state()["stats"].items() if k.endswith((".create", ".update"))} == uploads


class InFlight:
    """Target calls in flight at once, per target (provider or service, region): from the request to
    the end of its answer. ``most`` is the largest count seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now: Counter[tuple[str, str]] = Counter()
        self.most: Counter[tuple[str, str]] = Counter()

    def enter(self, key: tuple[str, str]) -> None:
        with self._lock:
            self.now[key] += 1
            self.most[key] = max(self.most[key], self.now[key])

    def leave(self, key: tuple[str, str]) -> None:
        with self._lock:
            self.now[key] -= 1


HuaweiRequest = Callable[[str, str, Callable[[], SimResponse]], SimResponse]
"""(method, target as requested, carry it out) -> the answer: around each request the simulator serves."""


@contextmanager
def around_huawei_requests(simulator: HuaweiCloudSimulator, around: HuaweiRequest) -> Iterator[None]:
    """Runs ``around`` for every request the simulator's HTTP server hands it (its ``handle``), for
    the scenario: what the service does, or when it answers, as seen from outside."""
    handle = simulator.handle

    def wrapped(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> SimResponse:
        return around(method, target, lambda: handle(method, target, headers, body))

    simulator.handle = wrapped  # type: ignore[method-assign]
    try:
        yield
    finally:
        del simulator.handle  # the class's own again


CERTIFICATE_COLLECTIONS = ("certificate", "certificates")  # WAF's, ELB's: a POST there creates one
_HUAWEI_API = re.compile(r"^/v[13]/(?P<project>[^/]+)/(?P<service>waf|elb)/(?P<rest>.*)$")


def slow_huawei_answers(regions: set[str], seconds: float, flight: InFlight) -> HuaweiRequest:
    """WAF and ELB in ``regions`` answer ``seconds`` after they did the work (each request counted in
    flight until then): latency, as the simulator's own fault has it, but after the work."""
    projects = {HuaweiCloudSimulator.project_id(region): region for region in regions}

    def slow(method: str, target: str, carry_out: Callable[[], SimResponse]) -> SimResponse:
        match = _HUAWEI_API.match(urlsplit(target).path)
        if match is None or match["project"] not in projects:
            return carry_out()
        key = (match["service"], projects[match["project"]])
        flight.enter(key)
        try:
            answer = carry_out()
            time.sleep(seconds)
            return answer
        finally:
            flight.leave(key)

    return slow


def test_a_push_longer_than_the_lease_and_a_worker_that_lost_it(suite: Suite):
    """Slow targets, every message delivered twice and again every 2 s (the queue's visibility):

    - ``holds``: ACM answers its import after 18 s, Huawei Cloud WAF and ELB every request after 6 s
      (a push of 12-18 s, above the stack's 10 s lease): the heartbeat holds the lease, so every
      other delivery is turned away: one call in flight per target at a time, one attempt;
    - ``lost``: the heartbeat's writes are throttled, so the lease runs out while ACM has not
      answered the first import yet (it did the work): a later delivery takes the push over (attempt
      2) and calls ACM; only then ACM answers the first worker, which writes nothing (its finish is
      conditional on a lease it no longer holds), and then the takeover, which finds the import by
      its tags (REUSED) and finishes."""
    started, figures = time.monotonic(), Figures("longer-than-lease")
    holds = suite.new_certificate("lease-holds", LEASE_HOLDS)
    lost = suite.new_certificate("lease-lost", LEASE_LOST)
    for certificate_id in (holds, lost):
        suite.import_version(certificate_id)
    flight, local = InFlight(), threading.local()
    watched = set(LEASE_HOLDS.aws_elb) | set(LEASE_LOST.aws_elb)
    first_import: set[str] = set()
    stale_finished = {region: threading.Event() for region in LEASE_LOST.aws_elb}

    def until(condition: Callable[[], bool]) -> None:
        """Polls state from inside a call (bounded: past it the call goes on, and the checks say what happened)."""
        deadline = time.monotonic() + 90
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.1)

    def calling(function: str, action: str, params: dict[str, Any]) -> None:
        region = params.get("context", {}).get("client_region")
        if function != "PushWorkerFunction" or not action.startswith(TARGET_ACTIONS) or region not in watched:
            return
        local.call = (action, ("aws", region))
        flight.enter(("aws", region))
        if region in first_import:  # the takeover's call: ACM answers it once the stale worker tried to finish
            stale_finished[region].wait(timeout=90)

    def answered(function: str, action: str) -> None:
        stale_region = getattr(local, "stale", None)
        if stale_region and action == "dynamodb:TransactWriteItems":  # the stale worker's finish, refused
            local.stale = None
            stale_finished[stale_region].set()
            return
        call, local.call = getattr(local, "call", None), None
        if call is None or call[0] != action:
            return
        key = call[1]
        if action == "acm:ImportCertificate" and key[1] in LEASE_HOLDS.aws_elb:
            time.sleep(LEASE_SECONDS + 8)  # ACM is slow to answer
        elif action == "acm:ImportCertificate" and key[1] not in first_import:
            first_import.add(key[1])  # ACM answers the first import once the push was taken over and calls it
            until(lambda: flight.now[key] >= 2)
            local.stale = key[1]
        flight.leave(key)

    def heartbeat_throttled(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        # the heartbeat runs on a thread of its own, outside the invocation's context: no function named
        body = body_of(params)
        beat = action == "dynamodb:TransactWriteItems" and b'"SET lease_until = :lease"' in body
        if beat and lost.encode() in body:
            return AwsError("ProvisionedThroughputExceededException", 400)
        return None

    suite.stack.aws_calls.faults += [calling, heartbeat_throttled]
    suite.stack.aws_calls.after_faults.append(answered)
    for poller in suite.stack.sqs_pollers:
        poller.duplicate_deliveries = True
    handed_back = suite.stack.aws_calls.calls[("PushWorkerFunction", "sqs:ChangeMessageVisibility")]
    with around_huawei_requests(
        suite.stack.emulators["huaweicloud"], slow_huawei_answers(set(LEASE_HOLDS.huawei_waf), 6, flight)
    ):
        for certificate_id in (holds, lost):
            suite.push(certificate_id)
        suite.drive([holds, lost], figures)

    figures = finish(suite, figures, started)

    held = {key: most for key, most in flight.most.items() if key[1] not in LEASE_LOST.aws_elb}
    assert held == {(s, r): 1 for s in ("aws", "waf", "elb") for r in LEASE_HOLDS.keys_of(s)}, flight.most
    assert {r: flight.most[("aws", r)] for r in LEASE_LOST.aws_elb} == dict.fromkeys(LEASE_LOST.aws_elb, 2)
    for record in suite.current(holds).values():
        assert (record.status, record.attempts, record.upload_action) == (PushStatus.SUCCEEDED, 1, "CREATED"), record
        assert (record.duration_ms or 0) > LEASE_SECONDS * 1000, record
    for record in suite.current(lost).values():
        assert (record.status, record.attempts, record.upload_action) == (PushStatus.SUCCEEDED, 2, "REUSED"), record
    assert Counter(h.status for h in suite.records.history(lost, limit=100)) == {PushStatus.SUCCEEDED: 2}
    assert suite.stack.aws_calls.calls[("PushWorkerFunction", "sqs:ChangeMessageVisibility")] > handed_back


# One importer: ``certpush certificates import`` in a process of its own, once the test says go.
# Every importer reads the inventory (nothing there yet), then waits at its first write (Secrets
# Manager's CreateSecret, a botocore hook) until all of them are there: they store at the same instant.
IMPORTER = """
import os, sys, time
from pathlib import Path
from certpush.adapters.aws_clients import shared_session
from certpush_cli.main import app
go, count = Path(sys.argv[1]), int(sys.argv[2])

def at_the_same_instant(**_):
    (go.parent / f"storing-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while len(list(go.parent.glob("storing-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.001)

shared_session().events.register("before-call.secrets-manager.CreateSecret", at_the_same_instant)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
app(sys.argv[3:], prog_name="certpush")
"""
IMPORTERS = 4


def test_identical_imports_at_the_same_instant(suite: Suite, tmp_path: Path):
    """A deploy hook run by several processes at once: four ``certpush certificates import`` of the
    same files, each past its read of the inventory, store at the same instant; a push policy
    matches the certificate. One version, one issuance, one push per target; the others answer
    ``already imported as version 1`` (their conditional write lost: they deleted their secret)."""
    started, figures = time.monotonic(), Figures("identical-imports")
    certificate_id = suite.new_certificate("same-instant", SAME_INSTANT)
    sample = suite.material(certificate_id)
    files = write_material(tmp_path, sample)
    policy = f"same-instant-{certificate_id[-6:]}"
    suite.cli("policies", "add", policy, "--pattern", f"{certificate_id}.example.com", *SAME_INSTANT.options())
    go = tmp_path / "go"
    command = [sys.executable, "-c", IMPORTER, str(go), str(IMPORTERS), "certificates", "import", "--id",
               certificate_id, *files]  # fmt: skip
    importers: list[subprocess.Popen[str]] = []
    try:
        for _ in range(IMPORTERS):
            importers.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for importer in importers:
            assert importer.stdout is not None and importer.stdout.readline().strip() == "ready"
        go.touch()
        outcomes = [(importer.wait(timeout=120), *importer.communicate()) for importer in importers]
    finally:
        for importer in importers:
            if importer.poll() is None:
                importer.kill()
                importer.wait()
    suite.imported(certificate_id, 1, sample)
    suite.pushed[certificate_id].add(1)
    suite.drive([certificate_id], figures)
    suite.cli("policies", "remove", policy)

    figures = finish(suite, figures, started)

    said = [" ".join(stdout.split()) for _, stdout, _ in outcomes]
    assert [code for code, _, _ in outcomes] == [0] * IMPORTERS, outcomes
    assert sum(f"imported {certificate_id} version 1:" in text for text in said) == 1, said
    assert sum("already imported as version 1" in text for text in said) == IMPORTERS - 1, said
    assert len(list(tmp_path.glob("storing-*"))) == IMPORTERS  # each one went to store it
    assert [v["version"] for v in suite.cli("certificates", "show", certificate_id, "--json").json()] == [1]
    history = suite.records.history(certificate_id, limit=100)
    assert len({h.issuance_id for h in history}) == 1 and len(history) == len(SAME_INSTANT.keys()), history
    assert figures.succeeded == len(SAME_INSTANT.keys())


def test_credentials_rotated_while_pushes_are_under_way(suite: Suite):
    """The Huawei Cloud AK/SK is rotated mid-run, when the first certificate is about to be created
    (every push has begun; this create was signed with the pair the worker holds): the stack's
    secret gets a new pair, then IAM deletes the old one (the simulator accepts only the new pair).
    Requests signed with the old pair get 401; the client reloads the secret once and goes on:
    every push SUCCEEDED, nothing lost, no second copy."""
    started, figures = time.monotonic(), Figures("credentials-rotated")
    certificate_ids = suite.import_certificates("rotated", scaled(2), ROTATED)
    huawei, secrets = suite.stack.emulators["huaweicloud"], boto3.client("secretsmanager")
    access_key, secret_key = f"ROTATED{uuid.uuid4().hex[:12].upper()}", uuid.uuid4().hex
    refused_before = huawei.state()["stats"].get("signature_failures", 0)
    rotation = threading.Lock()

    def rotate_at_the_first_create(method: str, target: str, carry_out: Callable[[], SimResponse]) -> SimResponse:
        match = _HUAWEI_API.match(urlsplit(target).path)
        creating = (
            method == "POST" and match is not None and match["rest"].strip("/") in ("certificate", "certificates")
        )
        if creating and rotation.acquire(blocking=False):  # once: the operator's rotation, the secret first
            secrets.put_secret_value(
                SecretId=suite.outputs["HuaweiCloudCredentialsSecretId"],
                SecretString=json.dumps({"access_key": access_key, "secret_key": secret_key}),
            )
            huawei.set_credentials({access_key: secret_key})
        return carry_out()

    with around_huawei_requests(huawei, rotate_at_the_first_create):
        for certificate_id in certificate_ids:
            suite.push(certificate_id)
        suite.drive(certificate_ids, figures)

    figures = finish(suite, figures, started)

    assert figures.succeeded == len(ROTATED.keys()) * len(certificate_ids), figures
    assert huawei.credentials == {access_key: secret_key}
    assert huawei.state()["stats"].get("signature_failures", 0) > refused_before  # the old pair was refused mid-run
