"""template.yaml, dashboards section: the records API behind a Function URL with AWS_IAM auth and a
role that reads the tables and emits replays, nothing more."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from certpush.models.events import DETAIL_TYPE_ISSUED, EVENT_SOURCE

from .conftest import REGION, STACK_NAME
from .test_template import _as_list, _of_type, _statements, cloudformation, sam_template

pytestmark = pytest.mark.integration
__all__ = ["cloudformation", "sam_template"]  # fixtures used below

_TABLE_READS = {
    "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
    "dynamodb:ConditionCheckItem", "dynamodb:PartiQLSelect", "dynamodb:GetRecords",
}  # fmt: skip


def test_the_records_api_has_a_function_url_that_requires_signed_requests(cloudformation: dict[str, Any]):
    (url,) = _of_type(cloudformation, "AWS::Lambda::Url").values()

    assert url["AuthType"] == "AWS_IAM"
    assert url["TargetFunctionArn"] == {"Ref": "RecordsApiFunction"}
    permissions = _of_type(cloudformation, "AWS::Lambda::Permission").values()
    assert not [p for p in permissions if p["FunctionName"] == {"Ref": "RecordsApiFunction"}], "no public invoke"


def test_the_records_api_reads_the_tables_and_may_only_emit_events(cloudformation: dict[str, Any]):
    actions = {
        action
        for role, statement in _statements(cloudformation)
        if role == "RecordsApiFunctionRole"
        for action in _as_list(statement["Action"])
    }

    writes = {a for a in actions if a.startswith("dynamodb:") and a not in _TABLE_READS}
    assert not writes
    # only what its code calls (GetItem is not: tests/least_privilege.py checks it across the e2e tier)
    assert {"dynamodb:Query", "events:PutEvents"} <= actions
    assert not {a for a in actions if a.split(":")[0] in {"sqs", "secretsmanager", "kms", "acm", "sns"}}


def test_the_embedded_stack_provisions_the_operations_dashboard(stack):
    name = f"{STACK_NAME}-pushes"

    body = boto3.client("cloudwatch", region_name=REGION).get_dashboard(DashboardName=name)["DashboardBody"]

    titles = [w["properties"]["title"] for w in json.loads(body)["widgets"]]
    assert "Function errors" in titles and "Dead-letter queue depths" in titles


def test_certificate_issued_events_are_archived_from_the_stack_bus(cloudformation: dict[str, Any]):
    (archive,) = _of_type(cloudformation, "AWS::Events::Archive").values()

    assert archive["SourceArn"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    assert archive["EventPattern"] == {"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE_ISSUED]}
    assert archive["RetentionDays"] > 0


def test_the_expiry_warning_runs_daily(cloudformation: dict[str, Any]):
    rules = _of_type(cloudformation, "AWS::Events::Rule").values()
    (schedule,) = [
        r for r in rules
        if "ScheduleExpression" in r and r["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ExpiryWarningFunction", "Arn"]}
    ]  # fmt: skip

    assert schedule["ScheduleExpression"] == "rate(1 day)"
    assert schedule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ExpiryWarningFunction", "Arn"]}
