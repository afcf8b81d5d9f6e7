"""The CloudWatch dashboard of template.yaml: its body, after substitution, is JSON (cfn-lint does not
look inside it) and covers what operators watch: pushes by outcome, provider, service and region,
durations, the oldest message's age, every dead-letter queue and every function's errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from certpush_dev.local.template import Resolver, load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def body(template: dict[str, Any]) -> dict[str, Any]:
    parameters = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    resolver = Resolver(
        pseudo={"AWS::StackName": "certpush", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012",
                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
        parameters=parameters,
    )  # fmt: skip
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        resolver.refs[logical_id] = str(resolver.resolve(properties.get("FunctionName", logical_id)))
        resolver.attributes[(logical_id, "QueueName")] = f"queue-{logical_id}"
        for event in properties.get("Events", {}).values():  # queues the SAM transform makes
            queue_id = event.get("Properties", {}).get("DeadLetterConfig", {}).get("QueueLogicalId")
            if queue_id:
                resolver.attributes[(queue_id, "QueueName")] = f"queue-{queue_id}"
    (dashboard,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    return json.loads(resolver.resolve(dashboard["Properties"]["DashboardBody"]))


def _widget(body: dict[str, Any], title_part: str) -> dict[str, Any]:
    (found,) = [w["properties"] for w in body["widgets"] if title_part in w["properties"]["title"]]
    return found


def _metric_dimensions(widget: dict[str, Any]) -> set[str]:
    return {metric[3] for metric in widget["metrics"]}


def test_every_widget_is_placed_in_the_stack_region(body):
    assert len(body["widgets"]) >= 6
    for widget in body["widgets"]:
        assert widget["properties"]["region"] == "eu-west-1"
        assert {"x", "y", "width", "height"} <= set(widget)


def test_pushes_by_outcome_provider_service_region_and_durations_from_the_worker_log(body):
    outcomes = _widget(body, "by outcome, provider")
    durations = _widget(body, "durations")

    for query in (outcomes["query"], durations["query"]):
        assert query.startswith("SOURCE '/aws/lambda/certpush-push-worker'")
        assert "filter message = 'push finished'" in query  # certpush.logic.push logs this line
    assert "by status, provider, service, region" in outcomes["query"]
    assert "duration_ms" in durations["query"]


def test_queue_age_every_dead_letter_queue_and_every_function_are_watched(body, template):
    queues = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"]
    queues += [  # the rules' dead-letter queues that the SAM transform makes
        event["Properties"]["DeadLetterConfig"]["QueueLogicalId"]
        for r in template["Resources"].values()
        for event in r.get("Properties", {}).get("Events", {}).values()
        if "QueueLogicalId" in event.get("Properties", {}).get("DeadLetterConfig", {})
    ]
    functions = {
        f"certpush-{r['Properties']['FunctionName']['Fn::Sub'].split('}-', 1)[1]}"
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }

    assert _metric_dimensions(_widget(body, "oldest")) == {"queue-PushQueue"}
    assert _metric_dimensions(_widget(body, "Dead-letter")) == {
        f"queue-{q}" for q in queues if "DeadLetter" in q or "Failure" in q}  # fmt: skip
    assert _metric_dimensions(_widget(body, "errors")) == functions
