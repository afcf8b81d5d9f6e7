"""The embedded stack's SQS poller runs as many invocations at once as the template allows Lambda to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from certpush_dev.local.pollers import DEFAULT_SQS_CONCURRENCY, Invoker, sqs_concurrency
from certpush_dev.local.provision import FunctionSpec
from certpush_dev.local.template import load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_concurrency_is_the_scaling_configs_maximum() -> None:
    assert sqs_concurrency({"BatchSize": 10, "ScalingConfig": {"MaximumConcurrency": 7}}) == 7


def test_without_scaling_config_lambdas_five_initial_pollers() -> None:
    assert sqs_concurrency({"BatchSize": 10}) == DEFAULT_SQS_CONCURRENCY == 5


def test_the_push_queue_mapping_of_the_template_sets_a_maximum() -> None:
    template = load_template(ROOT / "template.yaml")
    events = template["Resources"]["PushWorkerFunction"]["Properties"]["Events"]
    (mapping,) = [e["Properties"] for e in events.values() if e["Type"] == "SQS"]
    assert sqs_concurrency(mapping) == mapping["ScalingConfig"]["MaximumConcurrency"] >= 2
    # each push worker environment paces its calls under 1/N of every quota: N must be this maximum
    variables = template["Resources"]["PushWorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert int(variables["PUSH_WORKER_MAX_CONCURRENCY"]) == sqs_concurrency(mapping)


def _spec() -> FunctionSpec:
    return FunctionSpec(
        logical_id="F", name="f", code_dir=ROOT, handler="app.handler", timeout=60, environment={}, sources=[]
    )


def test_an_invoker_with_a_runner_hands_the_invocation_to_it() -> None:
    ran_inline: list[dict[str, Any]] = []
    invoker = Invoker(_spec(), lambda event, context: ran_inline.append(event))
    invoker.runner = lambda event: (False, {"errorType": "Boom", "errorMessage": str(event["n"])})

    outcome = invoker({"n": 1})

    assert outcome == (False, {"errorType": "Boom", "errorMessage": "1"})
    assert ran_inline == []
    assert (invoker.invocations, invoker.errors) == (1, 1)
