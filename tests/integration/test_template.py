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
from certpush_dev.local.template import load_template

from .conftest import REGION, TEMPLATE

pytestmark = pytest.mark.integration

# the tagging API's GetResources has no resource-level permission: the one push action allowed on Resource "*"
PUSH_ACTIONS_ON_ANY_RESOURCE = {"tag:GetResources"}
XRAY_WRITES = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


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
        "ExpiryWarningFunction", "NotifierFunction", "PushWorkerFunction", "RecordsApiFunction", "SweeperFunction",
        "ValidatorFunction",
    ]  # fmt: skip
    assert len(layers) == 1
    (layer_id, layer) = next(iter(layers.items()))
    assert "python3.12" in layer["CompatibleRuntimes"]
    for properties in functions.values():
        assert properties["Runtime"] == "python3.12"
        assert properties["Handler"] == "app.handler"
        assert properties["Layers"] == [{"Ref": layer_id}]
        assert properties["TracingConfig"] == {"Mode": "Active"}


PIPELINE = ("ValidatorFunction", "PushWorkerFunction", "NotifierFunction")


def test_snapstart_is_a_parameter_off_by_default_on_the_pipeline_functions(
    sam_template: dict[str, Any], cloudformation: dict[str, Any]
):
    parameter = sam_template["Parameters"]["SnapStart"]
    functions = _of_type(cloudformation, "AWS::Lambda::Function")
    versions = _of_type(cloudformation, "AWS::Lambda::Version")
    aliases = _of_type(cloudformation, "AWS::Lambda::Alias")

    assert parameter["Default"] == "None" and set(parameter["AllowedValues"]) == {"None", "PublishedVersions"}
    for name in PIPELINE:
        assert functions[name]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
        (alias,) = [a for a in aliases.values() if a["FunctionName"] == {"Ref": name}]
        assert alias["Name"] == "live"
        assert any(v["FunctionName"] == {"Ref": name} for v in versions.values())
    assert "SnapStart" not in functions["SweeperFunction"]


def test_push_worker_reads_the_queue_with_partial_batch_responses(cloudformation: dict[str, Any]):
    mappings = _of_type(cloudformation, "AWS::Lambda::EventSourceMapping")
    (sqs,) = [m for m in mappings.values() if m["EventSourceArn"] == {"Fn::GetAtt": ["PushQueue", "Arn"]}]

    assert sqs["FunctionName"] == {"Ref": "PushWorkerFunctionAliaslive"}  # the published version (SnapStart)
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs["BatchSize"] <= 10


def test_push_queue_redrives_after_its_own_receive_count_above_the_worker_s_attempts(
    cloudformation: dict[str, Any], sam_template: dict[str, Any]
):
    queue = _of_type(cloudformation, "AWS::SQS::Queue")["PushQueue"]
    worker = _of_type(cloudformation, "AWS::Lambda::Function")["PushWorkerFunction"]
    redrive = queue["RedrivePolicy"]
    parameters = sam_template["Parameters"]

    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["PushDeadLetterQueue", "Arn"]}
    assert worker["Environment"]["Variables"]["PUSH_MAX_ATTEMPTS"] == {"Ref": "PushMaxAttempts"}
    # receives are spent by attempts *and* by throttled or "in progress" retries: a parameter of its own
    assert redrive["maxReceiveCount"] == {"Ref": "PushMaxReceives"}
    assert int(parameters["PushMaxReceives"]["MinValue"]) >= 5
    assert int(parameters["PushMaxReceives"]["Default"]) > int(parameters["PushMaxAttempts"]["Default"])
    # Lambda's advice for SQS event sources: a visibility timeout of at least six function timeouts
    assert int(queue["VisibilityTimeout"]) >= 6 * int(worker["Timeout"])


def test_notifier_reads_history_inserts_from_the_records_stream(cloudformation: dict[str, Any]):
    mappings = _of_type(cloudformation, "AWS::Lambda::EventSourceMapping")
    (stream,) = [m for m in mappings.values() if m["EventSourceArn"] == {"Fn::GetAtt": ["RecordsTable", "StreamArn"]}]

    assert stream["FunctionName"] == {"Ref": "NotifierFunctionAliaslive"}
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
    assert target["Arn"] == {"Ref": "ValidatorFunctionAliaslive"}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["IssuedEventDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_the_rule_may_send_to_its_dead_letter_queue(cloudformation: dict[str, Any]):
    """Without a queue policy for events.amazonaws.com an undeliverable event is lost, not dead-lettered."""
    rules = _of_type(cloudformation, "AWS::Events::Rule")
    (rule_id,) = [
        lid for lid, r in rules.items() if r.get("EventPattern", {}).get("detail-type") == [DETAIL_TYPE_ISSUED]
    ]
    policies = _of_type(cloudformation, "AWS::SQS::QueuePolicy")

    (policy,) = [p for p in policies.values() if {"Ref": "IssuedEventDeadLetterQueue"} in p["Queues"]]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["IssuedEventDeadLetterQueue", "Arn"]}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_a_validator_error_ends_on_its_on_failure_queue_after_two_retries(cloudformation: dict[str, Any]):
    """EventBridge invokes the validator asynchronously: its errors are Lambda's to retry and keep."""
    configs = _of_type(cloudformation, "AWS::Lambda::EventInvokeConfig")
    (config,) = [c for c in configs.values() if c["FunctionName"] == {"Ref": "ValidatorFunction"}]
    role = _of_type(cloudformation, "AWS::IAM::Role")["ValidatorFunctionRole"]
    destination = {"Fn::GetAtt": ["ValidatorFailureQueue", "Arn"]}

    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == destination
    statements = [s for p in role["Policies"] for s in _as_list(p["PolicyDocument"]["Statement"])]
    assert any(
        "sqs:SendMessage" in _as_list(s["Action"]) and destination in _as_list(s["Resource"]) for s in statements
    )


def test_the_expiry_warning_keeps_a_run_that_failed_three_times(cloudformation: dict[str, Any]):
    configs = _of_type(cloudformation, "AWS::Lambda::EventInvokeConfig")
    (config,) = [c for c in configs.values() if c["FunctionName"] == {"Ref": "ExpiryWarningFunction"}]
    role = _of_type(cloudformation, "AWS::IAM::Role")["ExpiryWarningFunctionRole"]
    destination = {"Fn::GetAtt": ["ExpiryWarningFailureQueue", "Arn"]}

    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == destination
    statements = [s for p in role["Policies"] for s in _as_list(p["PolicyDocument"]["Statement"])]
    assert any(
        "sqs:SendMessage" in _as_list(s["Action"]) and destination in _as_list(s["Resource"]) for s in statements
    )


def test_the_sweeper_runs_on_a_schedule_with_its_bounds_from_parameters(cloudformation: dict[str, Any]):
    rules = _of_type(cloudformation, "AWS::Events::Rule")
    sweeper = _of_type(cloudformation, "AWS::Lambda::Function")["SweeperFunction"]

    (schedule,) = [r for r in rules.values() if r["Targets"][0]["Arn"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]}]
    assert schedule["ScheduleExpression"].startswith("rate(")
    variables = (
        {**cloudformation["Globals"]["Function"]["Environment"]["Variables"]} if "Globals" in cloudformation else {}
    )
    variables.update(sweeper["Environment"]["Variables"])
    assert variables["STUCK_AFTER_SECONDS"] == {"Ref": "StuckAfterSeconds"}
    assert variables["STUCK_MAX_SWEEPS"] == {"Ref": "StuckMaxSweeps"}


def test_secrets_are_encrypted_with_the_stack_key(cloudformation: dict[str, Any]):
    secrets = _of_type(cloudformation, "AWS::SecretsManager::Secret")
    key = _of_type(cloudformation, "AWS::KMS::Key")["CertificateKey"]

    assert secrets
    for secret in secrets.values():
        assert secret["KmsKeyId"] == {"Ref": "CertificateKey"}
    assert key["EnableKeyRotation"] is True


def _alarm_on(alarms: dict[str, dict[str, Any]], namespace: str, metric: str, dimension: Any) -> dict[str, Any]:
    (alarm,) = [
        a
        for a in alarms.values()
        if (a["Namespace"], a["MetricName"]) == (namespace, metric) and dimension in a["Dimensions"]
    ]
    return alarm


def _dead_letter_queues(cloudformation: dict[str, Any]) -> set[str]:
    """Every queue something sends to when it gives up: redrive targets and on-failure destinations."""
    found: set[str] = set()

    def visit(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            if key in ("deadLetterTargetArn", "Destination", "Arn") and set(value) == {"Fn::GetAtt"}:
                found.add(value["Fn::GetAtt"][0])
            for k, v in value.items():
                visit(v, k)
        elif isinstance(value, list):
            for v in value:
                visit(v, key)

    for resource in cloudformation["Resources"].values():
        if resource["Type"] in ("AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"):
            visit(resource["Properties"])
        if resource["Type"] == "AWS::Events::Rule":
            visit([t.get("DeadLetterConfig", {}) for t in resource["Properties"]["Targets"]])
    queues = _of_type(cloudformation, "AWS::SQS::Queue")
    return {q for q in found if q in queues}


def test_every_dead_letter_and_on_failure_queue_has_a_depth_alarm(cloudformation: dict[str, Any]):
    alarms = _of_type(cloudformation, "AWS::CloudWatch::Alarm")
    queues = _dead_letter_queues(cloudformation)

    assert queues == {
        "PushDeadLetterQueue",
        "IssuedEventDeadLetterQueue",
        "NotifierDeadLetterQueue",
        "ValidatorFailureQueue",
        "ExpiryWarningFailureQueue",
    }
    for queue in queues:
        dimension = {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        alarm = _alarm_on(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", dimension)
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0), queue


def test_every_dead_letter_and_on_failure_queue_keeps_messages_14_days(cloudformation: dict[str, Any]):
    """SQS's most (1,209,600 s), the SAM-made ones' 4 days default included: none is made by SAM any more."""
    queues = _of_type(cloudformation, "AWS::SQS::Queue")
    for queue in _dead_letter_queues(cloudformation):
        assert queues[queue].get("MessageRetentionPeriod") == 1209600, queue


def test_alarms_for_errors_throttles_backlog_stream_rule_and_failed_pushes(cloudformation: dict[str, Any]):
    alarms = _of_type(cloudformation, "AWS::CloudWatch::Alarm")
    rules = _of_type(cloudformation, "AWS::Events::Rule")
    (issued_rule,) = [
        lid for lid, r in rules.items() if r.get("EventPattern", {}).get("detail-type") == [DETAIL_TYPE_ISSUED]
    ]

    for function in _of_type(cloudformation, "AWS::Lambda::Function"):
        for metric in ("Errors", "Throttles"):
            _alarm_on(alarms, "AWS/Lambda", metric, {"Name": "FunctionName", "Value": {"Ref": function}})
    _alarm_on(
        alarms,
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["PushQueue", "QueueName"]}},
    )
    _alarm_on(alarms, "AWS/Lambda", "IteratorAge", {"Name": "FunctionName", "Value": {"Ref": "NotifierFunction"}})
    _alarm_on(alarms, "AWS/Events", "FailedInvocations", {"Name": "RuleName", "Value": {"Ref": issued_rule}})
    # Powertools Metrics: namespace from POWERTOOLS_METRICS_NAMESPACE, dimension "service"
    _alarm_on(alarms, "certpush", "PushFailed", {"Name": "service", "Value": "certpush-push-worker"})
    assert all(a["AlarmActions"] == [{"Ref": "NotifyTopic"}] for a in alarms.values())


def test_alarms_can_reach_someone(cloudformation: dict[str, Any]):
    """CloudWatch cannot publish to a topic under alias/aws/sns: the topic's key is ours, and its
    policy lets CloudWatch and EventBridge make data keys with it. An address can be subscribed."""
    topic = _of_type(cloudformation, "AWS::SNS::Topic")["NotifyTopic"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    policy = _of_type(cloudformation, "AWS::KMS::Key")["NotificationKey"]["KeyPolicy"]

    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        (grant,) = [
            s
            for s in policy["Statement"]
            if s["Effect"] == "Allow" and service in _as_list(s["Principal"].get("Service", []))
        ]
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(_as_list(grant["Action"]))
    subscription = cloudformation["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["TopicArn"] == {"Ref": "NotifyTopic"}
    assert cloudformation["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def test_keys_secrets_tables_and_logs_outlive_a_stack_deletion_as_they_should(cloudformation: dict[str, Any]):
    resources = cloudformation["Resources"]

    assert resources["CertificateKey"]["DeletionPolicy"] == "Retain"
    for secret in _of_type(cloudformation, "AWS::SecretsManager::Secret"):
        assert resources[secret]["DeletionPolicy"] == "Retain"
    for table in ("InventoryTable", "RecordsTable"):
        # a failed first deploy removes them (a retry would find the fixed names taken); later, kept
        assert resources[table]["DeletionPolicy"] == "RetainExceptOnCreate"
        assert resources[table]["Properties"]["DeletionProtectionEnabled"] is True
    groups = _of_type(cloudformation, "AWS::Logs::LogGroup")
    for function_id, function in _of_type(cloudformation, "AWS::Lambda::Function").items():
        group = function["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, function_id


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
    # X-Ray's write actions take no resource (Service Authorization Reference): every role has them on "*"
    xray = [(role, s) for role, s in on_any_resource if set(_as_list(s["Action"])) == XRAY_WRITES]
    assert sorted(role for role, _ in xray) == sorted(_of_type(cloudformation, "AWS::IAM::Role"))
    others = [(role, s) for role, s in on_any_resource if (role, s) not in xray]
    assert sorted(role for role, _ in others) == ["NotifierFunctionRole", "PushWorkerFunctionRole"]
    for _, statement in others:  # actions that take no resource (Service Authorization Reference)
        assert set(_as_list(statement["Action"])) <= PUSH_ACTIONS_ON_ANY_RESOURCE | {"dynamodb:ListStreams"}


def test_no_function_role_has_a_managed_policy(cloudformation: dict[str, Any]):
    """SAM's roles attach AWSLambdaSQSQueueExecutionRole / AWSLambdaDynamoDBExecutionRole (every queue,
    every stream of the account), AWSLambdaBasicExecutionRole (every log group) and X-Ray's policy."""
    functions = _of_type(cloudformation, "AWS::Lambda::Function")
    roles = _of_type(cloudformation, "AWS::IAM::Role")
    for name, function in functions.items():
        role = roles[function["Role"]["Fn::GetAtt"][0]]
        assert not role.get("ManagedPolicyArns"), name
        logs = [
            s for p in role["Policies"] for s in _as_list(p["PolicyDocument"]["Statement"])
            if any(a.startswith("logs:") for a in _as_list(s["Action"]))
        ]  # fmt: skip
        (statement,) = logs
        assert statement["Resource"] == {"Fn::GetAtt": [function["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}


def test_listener_and_distribution_changes_need_the_owner_s_tag(cloudformation: dict[str, Any]):
    """Issue 18: the queue message names the listener or distribution, the tag on it says whether the
    worker may change it; ModifyListener (which changes more than certificates) only with =default."""
    statements = [s for role, s in _statements(cloudformation) if role == "PushWorkerFunctionRole"]
    guarded = {
        "elasticloadbalancing:AddListenerCertificates": ["true", "default"],
        "elasticloadbalancing:ModifyListener": "default",
        "cloudfront:UpdateDistribution": "true",
        "cloudfront:GetDistributionConfig": "true",
    }
    for action, values in guarded.items():
        granting = [s for role, s in _statements(cloudformation) if action in _as_list(s["Action"])]
        assert granting, action
        for statement in granting:
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/certpush:attach": values}}, action
    assert all(s in statements for a in guarded for _, s in _statements(cloudformation) if a in _as_list(s["Action"]))


def test_only_the_functions_and_the_operator_may_use_the_certificate_key_through_secrets_manager(
    cloudformation: dict[str, Any],
):
    key = _of_type(cloudformation, "AWS::KMS::Key")["CertificateKey"]
    statements = key["KeyPolicy"]["Statement"]
    via_secrets_manager = {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
    for statement in statements:
        actions = set(_as_list(statement["Action"]))
        uses = {a for a in actions if a in {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}}
        assert "kms:*" not in actions and not any(a.startswith("kms:CreateGrant") for a in actions)
        if uses:
            assert statement["Condition"]["StringEquals"]["kms:ViaService"] == via_secrets_manager
    (functions,) = [s for s in statements if s["Sid"] == "FunctionsDecryptThroughSecretsManager"]
    assert functions["Principal"]["AWS"] == [
        {"Fn::GetAtt": ["ValidatorFunctionRole", "Arn"]},
        {"Fn::GetAtt": ["PushWorkerFunctionRole", "Arn"]},
    ]
    (operator,) = [s for s in statements if s["Sid"] == "OperatorUsesTheKeyThroughSecretsManager"]
    assert operator["Principal"]["AWS"]["Fn::If"][:2] == ["HasOperatorPrincipal", {"Ref": "OperatorPrincipalArn"}]


def test_only_the_push_worker_may_touch_acm_load_balancers_and_distributions(cloudformation: dict[str, Any]):
    services_by_role: dict[str, set[str]] = {}
    for role, statement in _statements(cloudformation):
        for action in _as_list(statement["Action"]):
            services_by_role.setdefault(role, set()).add(action.split(":", 1)[0])

    for role, services in services_by_role.items():
        if role != "PushWorkerFunctionRole":
            assert not services & {"acm", "elasticloadbalancing", "cloudfront"}, role
    assert {"acm", "elasticloadbalancing", "cloudfront"} <= services_by_role["PushWorkerFunctionRole"]


def test_acm_imports_only_certificates_certpush_tagged(cloudformation: dict[str, Any]):
    """A new import must carry certpush's tag; a re-import (which cannot carry tags) and re-tagging
    only touch certificates that already have it: no other imported certificate can be overwritten."""
    statements = [s for role, s in _statements(cloudformation) if role == "PushWorkerFunctionRole"]
    imports = [s for s in statements if "acm:ImportCertificate" in _as_list(s["Action"])]

    assert len(imports) == 2
    conditions = [s["Condition"] for s in imports]
    assert {"aws:RequestTag/certpush:certificate-id": "false"} in [c["Null"] for c in conditions]
    assert {"aws:ResourceTag/certpush:certificate-id": "false"} in [c["Null"] for c in conditions]
    for statement in imports:
        assert "*" not in _as_list(statement["Resource"])
    (retag,) = [s for s in statements if "acm:AddTagsToCertificate" in _as_list(s["Action"])]
    assert retag["Condition"]["Null"] == {"aws:ResourceTag/certpush:certificate-id": "false"}
    listeners = [s for s in statements if any(a.startswith("elasticloadbalancing:") for a in _as_list(s["Action"]))]
    actions = {a for s in listeners for a in _as_list(s["Action"])}
    assert actions == {"elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:ModifyListener"}
    assert all("Condition" in s for s in listeners)
