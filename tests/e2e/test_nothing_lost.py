"""No push stays in flight, on AWS semantics: the validator is invoked asynchronously (two retries,
then its on-failure destination, never the rule's DLQ) and the sweeper brings whatever it left
PENDING to a final state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import boto3
import pytest

from certpush_dev.local.aws_hooks import AwsError
from certpush_dev.local.pollers import AsyncInvocationFailed
from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

REGIONS = ["us-east-1", "eu-west-1"]


class ValidatorCrash(Exception):
    """What a validator container dying after its records were written looks like to Lambda."""


def _crash_before_queueing(function: str, action: str, params: dict[str, Any]) -> None:
    if function == "ValidatorFunction" and action == "sqs:SendMessageBatch":
        raise ValidatorCrash("the validator died after writing its PENDING records")


@contextmanager
def _validator_crashing(stack: EmbeddedStack, certificate_id: str) -> Iterator[dict[str, Any]]:
    """The validator crashes after writing its records until the block's event reached the on-failure
    queue; the yielded dict is then Lambda's invocation record of it."""
    failures = stack.provisioned.outputs["ValidatorFailureQueueUrl"] if stack.provisioned else ""

    def failed_event() -> dict[str, Any] | None:
        mine = [m for m in _messages(failures) if m["requestPayload"]["detail"]["certificate_id"] == certificate_id]
        return mine[0] if mine else None

    found: dict[str, Any] = {}
    stack.aws_calls.faults.append(_crash_before_queueing)
    try:
        yield found
        found.update(eventually(failed_event, timeout=30, what="the event on the validator's on-failure queue"))
    finally:
        stack.aws_calls.faults.remove(_crash_before_queueing)


def _messages(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def _queue_url(stack: EmbeddedStack, logical_id: str) -> str:
    return stack.provisioned.physical_ids[logical_id] if stack.provisioned else ""


def test_a_validator_raising_mid_issuance_ends_on_its_on_failure_queue_and_the_sweeper_finishes_its_pushes(
    stack: EmbeddedStack, cli, imported, certificate_id
):
    with _validator_crashing(stack, certificate_id) as record:
        cli("push", certificate_id, "--to", f"aws:elb={','.join(REGIONS)}")

    # Lambda's invocation record: the first attempt and two retries, the event itself, the error
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "ValidatorCrash"
    assert record["requestPayload"]["detail-type"] == "Certificate Issued"
    # the rule's DLQ covers delivery only: a function error never lands there
    assert not [
        m for m in _messages(_queue_url(stack, "IssuedEventDeadLetterQueue")) if certificate_id in json.dumps(m)
    ]
    # an alarm watches the depth of the on-failure queue and reaches the notification topic
    alarms = boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{stack.stack_name}-validator-failures")
    (alarm,) = alarms["MetricAlarms"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["AlarmActions"] == [stack.provisioned.outputs["NotifyTopicArn"]] if stack.provisioned else False
    stuck = cli("records", certificate_id, "--json").json()
    assert sorted((r["region"], r["status"]) for r in stuck) == [(r, "PENDING") for r in sorted(REGIONS)]

    def swept_to_a_final_state() -> list[dict[str, Any]] | None:
        stack.run_schedule("SweeperFunction").result(timeout=30)
        records = cli("records", certificate_id, "--json").json()
        return records if all(r["status"] in ("SUCCEEDED", "FAILED") for r in records) else None

    final = eventually(swept_to_a_final_state, timeout=60, what="the sweeper to finish the stuck pushes")

    assert [(r["region"], r["status"]) for r in sorted(final, key=lambda r: r["region"])] == [
        (r, "SUCCEEDED") for r in sorted(REGIONS)
    ]


def test_replay_ends_stuck_pushes_and_pushes_them_again(stack: EmbeddedStack, cli, imported, certificate_id):
    with _validator_crashing(stack, certificate_id):
        cli("push", certificate_id, "--to", "aws:elb=us-east-1")

    def replayed() -> Any:
        result = cli("replay", certificate_id, "--stuck-after", "1", "--wait", "--timeout", "60", expect=None)
        return result if "no FAILED, ATTACH_FAILED or stuck targets" not in result.stdout else None

    result = eventually(replayed, timeout=30, what="the push to be stuck for a second")

    assert result.exit_code == 0, result.stdout
    (record,) = cli("records", certificate_id, "--json").json()
    assert record["status"] == "SUCCEEDED"
    history = cli("history", certificate_id, "--json").json()
    assert [(h["status"], h["reason"]) for h in history] == [("SUCCEEDED", None), ("FAILED", "STUCK")]


def test_a_push_the_sweeper_cannot_requeue_ends_failed_stuck_after_its_sweeps(
    stack: EmbeddedStack, cli, imported, certificate_id
):
    with _validator_crashing(stack, certificate_id):
        cli("push", certificate_id, "--to", "aws:elb=us-east-1")

    def queue_down(function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        sweeper_sending = function == "SweeperFunction" and action == "sqs:SendMessageBatch"
        return AwsError("AWS.SimpleQueueService.NonExistentQueue", 400) if sweeper_sending else None

    stack.aws_calls.faults.append(queue_down)
    try:

        def ended() -> list[dict[str, Any]] | None:
            with suppress(AsyncInvocationFailed):  # its re-queue failed; the sweep was counted all the same
                stack.run_schedule("SweeperFunction").result(timeout=30)
            records = cli("records", certificate_id, "--json").json()
            return records if records[0]["status"] == "FAILED" else None

        (record,) = eventually(ended, timeout=60, what="the sweeper to give up on the push")
    finally:
        stack.aws_calls.faults.remove(queue_down)

    assert record["reason"] == "STUCK"
    assert "re-queued 3 times without an outcome" in record["message"]
    history = cli("history", certificate_id, "--json").json()
    assert [(h["status"], h["reason"]) for h in history] == [("FAILED", "STUCK")]
