"""template.yaml: cfn-lint finds nothing, and the SAM transform (run offline, as ``sam package`` +
CloudFormation would) produces the event sources, retries, dead letters, encryption, alarm and least
privilege the design relies on."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint, lint_file
from samtranslator.translator.transform import transform

from certpush.models.events import DETAIL_TYPE_ISSUED, EVENT_SOURCE
from certpush.models.items import ITEM_HISTORY
from certpush.settings import Settings
from certpush_dev.local.template import load_template

from .conftest import REGION, TEMPLATE

pytestmark = pytest.mark.integration

# ACM has no resource-level permission for these (a new import has no ARN yet): the one statement
# allowed on Resource "*"
ACM_ACTIONS_ON_ANY_RESOURCE = {
    "acm:ImportCertificate",
    "acm:ListCertificates",
    "acm:DescribeCertificate",
    "acm:AddTagsToCertificate",
}


# -- cfn-lint ----------------------------------------------------------------------------------------
def test_cfn_lint_reports_nothing():
    assert [str(match) for match in lint_file(TEMPLATE)] == []


def test_cfn_lint_does_check_this_template():
    """The empty report above means something: the same template with a retired runtime is refused."""
    broken = TEMPLATE.read_text().replace("Runtime: python3.12", "Runtime: python2.7")

    assert any(match.rule.id == "E2533" for match in lint(broken))


# -- SAM transform -----------------------------------------------------------------------------------
class _ManagedPolicies:
    """What SAM asks IAM for (ListPolicies) when a template names a managed policy by name."""

    def load(self) -> dict[str, str]:
        names = ("AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess")
        return {name: f"arn:aws:iam::aws:policy/{name}" for name in names}


@pytest.fixture(scope="module")
def sam_template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def cloudformation(sam_template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(sam_template)
    for resource in template["Resources"].values():  # what `sam package` does to local code
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://certpush-artifacts/{Path(str(properties[key])).name}.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        return transform(template, {"AWS::Region": REGION}, _ManagedPolicies())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == kind}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_three_functions_on_python_3_12_with_the_layer(cloudformation: dict[str, Any]):
    functions = _of_type(cloudformation, "AWS::Lambda::Function")
    layers = _of_type(cloudformation, "AWS::Lambda::LayerVersion")

    assert sorted(functions) == [
        "ExpiryWarningFunction", "NotifierFunction", "PushWorkerFunction", "RecordsApiFunction", "ValidatorFunction"
    ]  # fmt: skip
    assert len(layers) == 1
    (layer_id, layer) = next(iter(layers.items()))
    assert "python3.12" in layer["CompatibleRuntimes"]
    for properties in functions.values():
        assert properties["Runtime"] == "python3.12"
        assert properties["Handler"] == "app.handler"
        assert properties["Layers"] == [{"Ref": layer_id}]
        assert properties["TracingConfig"] == {"Mode": "Active"}


def test_push_worker_reads_the_queue_with_partial_batch_responses(cloudformation: dict[str, Any]):
    mappings = _of_type(cloudformation, "AWS::Lambda::EventSourceMapping")
    (sqs,) = [m for m in mappings.values() if m["EventSourceArn"] == {"Fn::GetAtt": ["PushQueue", "Arn"]}]

    assert sqs["FunctionName"] == {"Ref": "PushWorkerFunction"}
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs["BatchSize"] <= 10


def test_push_queue_redrives_to_its_dead_letter_queue_after_the_worker_s_last_attempt(
    cloudformation: dict[str, Any], sam_template: dict[str, Any]
):
    queue = _of_type(cloudformation, "AWS::SQS::Queue")["PushQueue"]
    worker = _of_type(cloudformation, "AWS::Lambda::Function")["PushWorkerFunction"]
    redrive = queue["RedrivePolicy"]
    worker_attempts = worker["Environment"]["Variables"]["PUSH_MAX_ATTEMPTS"]

    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["PushDeadLetterQueue", "Arn"]}
    assert worker_attempts == {"Ref": "PushMaxAttempts"}
    if isinstance(redrive["maxReceiveCount"], dict):
        # the same parameter as the worker's attempts, whatever a deployment sets: the worker ends the
        # push FAILED on receive number PUSH_MAX_ATTEMPTS, so only a crash or timeout reaches the DLQ
        assert redrive["maxReceiveCount"] == worker_attempts
    else:
        defaults = (
            int(sam_template["Parameters"]["PushMaxAttempts"]["Default"]),
            Settings.model_fields["max_attempts"].default,
        )
        assert int(redrive["maxReceiveCount"]) > max(defaults)
    # Lambda's advice for SQS event sources: a visibility timeout of at least six function timeouts
    assert int(queue["VisibilityTimeout"]) >= 6 * int(worker["Timeout"])


def test_notifier_reads_history_inserts_from_the_records_stream(cloudformation: dict[str, Any]):
    mappings = _of_type(cloudformation, "AWS::Lambda::EventSourceMapping")
    (stream,) = [m for m in mappings.values() if m["EventSourceArn"] == {"Fn::GetAtt": ["RecordsTable", "StreamArn"]}]

    assert stream["FunctionName"] == {"Ref": "NotifierFunction"}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["NotifierDeadLetterQueue", "Arn"]}
    assert stream["MaximumRetryAttempts"] >= 1
    (pattern,) = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": [ITEM_HISTORY]}}}}


def test_certificate_issued_rule_on_the_certpush_bus(cloudformation: dict[str, Any]):
    rules = _of_type(cloudformation, "AWS::Events::Rule")
    (rule,) = [r for r in rules.values() if r.get("EventPattern", {}).get("detail-type") == [DETAIL_TYPE_ISSUED]]

    assert rule["EventBusName"] == {"Ref": "EventBus"}
    assert rule["EventPattern"]["source"] == [EVENT_SOURCE]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ValidatorFunction", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["IssuedEventDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_secrets_are_encrypted_with_the_stack_key(cloudformation: dict[str, Any]):
    secrets = _of_type(cloudformation, "AWS::SecretsManager::Secret")
    key = _of_type(cloudformation, "AWS::KMS::Key")["CertificateKey"]

    assert secrets
    for secret in secrets.values():
        assert secret["KmsKeyId"] == {"Ref": "CertificateKey"}
    assert key["EnableKeyRotation"] is True


def test_an_alarm_watches_the_dead_letter_queue_depth(cloudformation: dict[str, Any]):
    alarms = _of_type(cloudformation, "AWS::CloudWatch::Alarm")
    (alarm,) = [
        a
        for a in alarms.values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": ["PushDeadLetterQueue", "QueueName"]}} in a["Dimensions"]
    ]

    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [{"Ref": "NotifyTopic"}]


def _statements(cloudformation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for role_id, role in _of_type(cloudformation, "AWS::IAM::Role").items():
        for policy in role.get("Policies", []):
            found.extend((role_id, s) for s in _as_list(policy["PolicyDocument"]["Statement"]))
    return found


def test_function_roles_are_least_privilege(cloudformation: dict[str, Any]):
    statements = _statements(cloudformation)
    on_any_resource = [(role, s) for role, s in statements if "*" in _as_list(s.get("Resource"))]

    assert len(statements) > 10
    for role, statement in statements:
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{role} allows {action}"
    assert [role for role, _ in on_any_resource] == ["PushWorkerFunctionRole"]
    (_, acm) = on_any_resource[0]
    assert set(_as_list(acm["Action"])) <= ACM_ACTIONS_ON_ANY_RESOURCE


def test_only_the_push_worker_may_touch_acm_load_balancers_and_distributions(cloudformation: dict[str, Any]):
    services_by_role: dict[str, set[str]] = {}
    for role, statement in _statements(cloudformation):
        for action in _as_list(statement["Action"]):
            services_by_role.setdefault(role, set()).add(action.split(":", 1)[0])

    for role, services in services_by_role.items():
        if role != "PushWorkerFunctionRole":
            assert not services & {"acm", "elasticloadbalancing", "cloudfront"}, role
    assert {"acm", "elasticloadbalancing", "cloudfront"} <= services_by_role["PushWorkerFunctionRole"]
