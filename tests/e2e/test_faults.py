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

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from certpush_dev.local.aws_calls import AwsCallCounter
from certpush_dev.local.aws_hooks import AwsError
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import CliResult
from tests.e2e.fault_suite import (
    Suite,
    SummaryLog,
    body_of,
    fault_stack,
    open_suite,
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


@pytest.fixture(scope="module")
def summaries(stack: EmbeddedStack) -> Iterator[SummaryLog]:
    log = SummaryLog(stack)
    yield log
    log.close()


@pytest.fixture
def suite(
    stack: EmbeddedStack, cli: Callable[..., CliResult], tmp_path: Path, summaries: SummaryLog
) -> Iterator[Suite]:
    with open_suite(stack, cli, tmp_path, summaries) as running:
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
