"""Least privilege, checked against what the functions really do.

The embedded stack records every AWS operation each function's code performs (botocore
``before-call`` hooks on the shared session, ``certpush_dev.local.aws_hooks``). Across the e2e tier
those calls are compared with the statements of each function's role in the *transformed*
template (what CloudFormation deploys): a call no grant covers, or a grant no call uses, fails.

Some grants are used by AWS on the function's behalf rather than by a call in its code; they are
listed in ``IMPLIED`` with the reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from certpush_dev.local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
CALLS_DIR = ROOT / ".certpush" / "aws-calls"

# a call -> the IAM action that authorises it (Service Authorization Reference)
AUTHORISED_BY = {
    # authorised per item (DynamoDB developer guide, "Using IAM with DynamoDB transactions"): a Put needs
    # PutItem, an Update UpdateItem; the push worker's claim, heartbeat and finish update, its finish puts
    "dynamodb:TransactWriteItems": {"dynamodb:PutItem", "dynamodb:UpdateItem"},
    "sqs:SendMessageBatch": {"sqs:SendMessage"},
    "sns:PublishBatch": {"sns:Publish"},  # SNS API reference, PublishBatch: needs the sns:Publish permission
    "sqs:DeleteMessageBatch": {"sqs:DeleteMessage"},
    "sqs:ChangeMessageVisibilityBatch": {"sqs:ChangeMessageVisibility"},
}
# grants AWS uses on the function's behalf
IMPLIED: dict[str, set[str]] = {
    # Lambda's SQS event source mapping polls and deletes with the function's role
    "PushWorkerFunction": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
    # Lambda's DynamoDB stream mapping reads the stream with the function's role
    "NotifierFunction": {
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
        "sqs:SendMessage",  # its on-failure destination
        "kms:GenerateDataKey", "kms:Decrypt",  # SNS encrypts a published message with the topic's key
    },
    "ValidatorFunction": {"sqs:SendMessage"},  # EventInvokeConfig's on-failure destination (SAM adds it)
    "ExpiryWarningFunction": {"kms:GenerateDataKey", "kms:Decrypt"},  # SNS, as for the notifier
}  # fmt: skip
# Secrets Manager decrypts a secret with its KMS key on the caller's behalf
IMPLIED_WITH = {"secretsmanager:GetSecretValue": {"kms:Decrypt"}}


class _ManagedPolicies:
    def load(self) -> dict[str, str]:
        names = ("AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess")
        return {name: f"arn:aws:iam::aws:policy/{name}" for name in names}


def transformed_template(region: str = "us-east-1") -> dict[str, Any]:
    """template.yaml through the SAM translator, offline (as `sam package` + CloudFormation would)."""
    import os

    from samtranslator.translator.transform import transform

    template = copy.deepcopy(load_template(ROOT / "template.yaml"))
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://certpush-artifacts/{Path(str(properties[key])).name}.zip"
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        return transform(template, {"AWS::Region": region}, _ManagedPolicies())  # type: ignore[no-any-return]
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted_actions(cloudformation: dict[str, Any]) -> dict[str, set[str]]:
    """function logical id -> actions its role's inline policies allow."""
    grants: dict[str, set[str]] = {}
    for logical_id, resource in cloudformation["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        actions: set[str] = set()
        for policy in cloudformation["Resources"][role]["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                if statement.get("Effect") == "Allow":
                    actions |= set(_as_list(statement["Action"]))
        grants[logical_id] = actions
    return grants


def needed_actions(calls: Iterable[str]) -> set[str]:
    needed: set[str] = set()
    for call in calls:
        needed |= AUTHORISED_BY.get(call, {call})
    return needed


def compare(calls: dict[str, set[str]], grants: dict[str, set[str]]) -> list[str]:
    """Problems, one line each: calls no grant covers, grants nothing uses."""
    problems = []
    for function, granted in sorted(grants.items()):
        made = calls.get(function, set())
        needed = needed_actions(made)
        used = needed | IMPLIED.get(function, set())
        for call in made:
            used |= IMPLIED_WITH.get(call, set())
        for action in sorted(needed - granted):
            problems.append(f"{function} calls {action}, which no statement of its role allows")
        for action in sorted(granted - used):
            problems.append(f"{function} is granted {action}, which it never used across the e2e tier")
    return problems


def recorded_calls() -> tuple[dict[str, set[str]], set[str]]:
    """(function -> actions, e2e test files that ran) from every worker's record of this run."""
    calls: dict[str, set[str]] = {}
    files: set[str] = set()
    for path in sorted(CALLS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        for function, actions in data["calls"].items():
            calls.setdefault(function, set()).update(actions)
        files.update(data["files"])
    return calls, files


def write_calls(worker: str, calls: dict[str, set[str]], files: set[str]) -> None:
    """Adds to what this worker wrote before (its embedded stack may start more than once)."""
    CALLS_DIR.mkdir(parents=True, exist_ok=True)
    path = CALLS_DIR / f"{worker}.json"
    if path.exists():
        earlier = json.loads(path.read_text())
        for function, actions in earlier["calls"].items():
            calls = {**calls, function: calls.get(function, set()) | set(actions)}
        files = files | set(earlier["files"])
    payload = {"calls": {f: sorted(a) for f, a in calls.items()}, "files": sorted(files)}
    path.write_text(json.dumps(payload, indent=1))
