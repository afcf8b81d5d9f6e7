"""What IAM would refuse and moto lets through: moto enforces no IAM, so a push worker on the embedded
stack could change a listener or a distribution its role may not touch, and a test would pass that
fails on AWS. This guard reads the functions' roles in template.yaml and, for every action that the
role allows only on resources carrying a tag (``aws:ResourceTag/KEY`` with ``StringEquals``), looks
the tag up in the emulator before the call and answers AccessDenied, as IAM would, when it is not there.
It covers the listener and distribution actions (``_TAGS_OF``); ACM's tag conditions are not evaluated.

Source: IAM User Guide, "Controlling access to AWS resources using tags" (aws:ResourceTag) and "Policy
evaluation logic" (an action is allowed when any Allow statement matches; none here is a Deny). Only
the condition form the template uses is evaluated; a role that uses another on a guarded action stops
the stack from starting rather than being let through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from certpush_dev.local.aws_hooks import AwsError

_TAG_KEY = "aws:ResourceTag/"


@dataclass(frozen=True)
class _TagRule:
    key: str
    values: frozenset[str]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rule(condition: dict[str, Any], where: str) -> _TagRule:
    if set(condition) != {"StringEquals"} or len(condition["StringEquals"]) != 1:
        raise ValueError(f"{where}: the embedded stack evaluates only StringEquals on one aws:ResourceTag key")
    ((key, values),) = condition["StringEquals"].items()
    if not key.startswith(_TAG_KEY):
        raise ValueError(f"{where}: the embedded stack evaluates only aws:ResourceTag conditions, not {key}")
    return _TagRule(key[len(_TAG_KEY) :], frozenset(str(v) for v in _as_list(values)))


def tag_conditions(template: dict[str, Any]) -> dict[tuple[str, str], list[_TagRule]]:
    """(function logical id, action) -> the tags one of which the resource must carry, for the actions
    a function's role allows only with a resource-tag condition."""
    resources = template["Resources"]
    guarded: dict[tuple[str, str], list[_TagRule]] = {}
    for function, resource in resources.items():
        role_ref = resource.get("Properties", {}).get("Role")
        if resource["Type"] != "AWS::Serverless::Function" or not isinstance(role_ref, dict):
            continue
        role = resources[role_ref["Fn::GetAtt"][0]]
        free: set[str] = set()
        rules: dict[str, list[_TagRule]] = {}
        for policy in role["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                if statement.get("Effect") != "Allow":
                    continue
                for action in _as_list(statement["Action"]):
                    condition = statement.get("Condition")
                    if condition is None:
                        free.add(action)
                    elif action in _TAGS_OF:
                        rules.setdefault(action, []).append(_rule(condition, f"{function} {action}"))
        for action, found in rules.items():
            if action not in free:
                guarded[(function, action)] = found
    return guarded


# ``params`` is botocore's request dict (``before-call``): ELB's query parameters are its body, CloudFront's
# distribution id is in its path (/2020-05-31/distribution/{Id}/config)
def _listener_tags(params: dict[str, Any], session: boto3.Session, endpoint_url: str) -> dict[str, str]:
    arn = str(params["body"]["ListenerArn"])
    client = session.client("elbv2", region_name=arn.split(":")[3], endpoint_url=endpoint_url)
    descriptions = client.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return {t["Key"]: t["Value"] for d in descriptions for t in d.get("Tags", [])}


def _distribution_tags(params: dict[str, Any], session: boto3.Session, endpoint_url: str) -> dict[str, str]:
    client = session.client("cloudfront", region_name="us-east-1", endpoint_url=endpoint_url)
    account = session.client("sts", region_name="us-east-1", endpoint_url=endpoint_url).get_caller_identity()
    distribution = str(params["url_path"]).split("/distribution/", 1)[1].split("/", 1)[0]
    arn = f"arn:aws:cloudfront::{account['Account']}:distribution/{distribution}"
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(Resource=arn)["Tags"].get("Items", [])}


# the resource of each guarded action, and how to read its tags in the emulator
_TAGS_OF: dict[str, Callable[[dict[str, Any], boto3.Session, str], dict[str, str]]] = {
    "elasticloadbalancing:AddListenerCertificates": _listener_tags,
    "elasticloadbalancing:ModifyListener": _listener_tags,
    "cloudfront:GetDistributionConfig": _distribution_tags,
    "cloudfront:UpdateDistribution": _distribution_tags,
}


class ResourceTagGuard:
    """A guard for ``AwsCallHooks.guards``: AccessDenied where the role's tag condition does not hold."""

    def __init__(self, template: dict[str, Any], endpoint_url: str, region: str) -> None:
        self.conditions = tag_conditions(template)
        if not self.conditions:
            raise ValueError("no function's role has a resource-tag condition on a listener or distribution action")
        self._endpoint_url = endpoint_url
        self._session = boto3.Session(region_name=region)  # not the functions' session: no hooks, no counting

    def __call__(self, function: str, action: str, params: dict[str, Any]) -> AwsError | None:
        rules = self.conditions.get((function, action))
        if rules is None:
            return None
        tags = _TAGS_OF[action](params, self._session, self._endpoint_url)
        if any(tags.get(rule.key) in rule.values for rule in rules):
            return None
        wanted = " or ".join(f"{rule.key}={'|'.join(sorted(rule.values))}" for rule in rules)
        return AwsError(
            "AccessDenied",
            403,
            f"not authorized to perform {action}: the role allows it only on resources tagged {wanted} "
            "(IAM, as the embedded stack evaluates the template's role)",
        )
