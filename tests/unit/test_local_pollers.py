"""The embedded stack's SQS poller runs as many invocations at once as the template allows Lambda to."""

from __future__ import annotations

from pathlib import Path

import pytest

from certpush_dev.local.pollers import DEFAULT_SQS_CONCURRENCY, sqs_concurrency
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
