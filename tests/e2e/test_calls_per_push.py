"""Control-plane calls per push: every AWS call the handlers make (validator, push worker,
notifier) except the target's own API, counted with botocore's event hooks, for one issuance to
20 targets plus 3 AWS ELB regions. The bound is issue 11's: at most 6 per push."""

from __future__ import annotations

import pytest

from certpush_dev.local.aws_calls import AwsCallCounter

from .conftest import eventually

pytestmark = pytest.mark.e2e

REGIONS = ["cn-north-4", "cn-north-1", "cn-east-3", "cn-east-2", "cn-south-1", "ap-southeast-1",
           "ap-southeast-2", "ap-southeast-3", "af-south-1", "la-south-2"]  # fmt: skip
AWS_REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]
MAX_CALLS_PER_PUSH = 6


def test_a_push_costs_at_most_six_control_plane_calls(cli, stack, imported, certificate_id, aws_calls):
    pushes = 2 * len(REGIONS) + len(AWS_REGIONS)
    aws_calls.reset()

    cli("push", certificate_id, "--to", f"huaweicloud:waf={','.join(REGIONS)}",
        "--to", f"huaweicloud:elb={','.join(REGIONS)}", "--to", f"aws:elb={','.join(AWS_REGIONS)}",
        "--wait", "--timeout", "120")  # fmt: skip
    # the notifier's last events (one per success, one summary) follow the final records
    eventually(lambda: aws_calls.events_put >= pushes + 1, what="every event emitted")

    calls = AwsCallCounter.control_plane(aws_calls.snapshot())
    assert {r["status"] for r in cli("records", certificate_id, "--json").json()} == {"SUCCEEDED"}
    per_push = sum(calls.values()) / pushes
    print(f"{per_push:.2f} control-plane calls per push: {calls}")
    assert per_push <= MAX_CALLS_PER_PUSH, f"{per_push:.2f} calls per push: {calls}"
