"""The Provisioner builds exactly the stateful resources of template.yaml in moto, and describes its
functions (handler files, environment, event sources) as the template does."""

from __future__ import annotations

import ast
import json
from typing import Any

import boto3
import pytest

from certpush.settings import Settings
from certpush_dev.local.provision import FunctionSpec, ProvisionedStack
from certpush_dev.local.template import Resolver

from .conftest import REGION

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def names(template: dict[str, Any], stack: ProvisionedStack) -> Resolver:
    """Resolves the template's names (``!Sub "${AWS::StackName}-..."``) for this stack."""
    pseudo = {"AWS::StackName": stack.name, "AWS::Region": REGION, "AWS::AccountId": stack.account}
    return Resolver(pseudo=pseudo, parameters={})


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties", {}) for lid, r in template["Resources"].items() if r["Type"] == kind}


def _function(stack: ProvisionedStack, logical_id: str) -> FunctionSpec:
    (spec,) = [f for f in stack.functions if f.logical_id == logical_id]
    return spec


def test_tables_are_the_template_s(template: dict[str, Any], stack: ProvisionedStack, names: Resolver):
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    expected = {names.resolve(p["TableName"]): p for p in _resources(template, "AWS::DynamoDB::Table").values()}

    assert sorted(dynamodb.list_tables()["TableNames"]) == sorted(expected)
    for name, properties in expected.items():
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == properties["KeySchema"]
        declared = {i["IndexName"]: i["KeySchema"] for i in properties.get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])} == declared
        assert table.get("StreamSpecification", {}).get("StreamEnabled", False) == ("StreamSpecification" in properties)


def test_records_table_has_its_indexes_and_stream(stack: ProvisionedStack):
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=stack.outputs["RecordsTableName"])
    table = table["Table"]

    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == ["ByDay", "ByStatus", "ByTarget"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"] == _function(stack, "NotifierFunction").sources[0].properties["Stream"]


def test_queues_are_the_template_s_and_one_tap_per_rule(
    template: dict[str, Any], stack: ProvisionedStack, names: Resolver
):
    sqs = boto3.client("sqs", region_name=REGION)
    declared = {names.resolve(p["QueueName"]) for p in _resources(template, "AWS::SQS::Queue").values()}
    taps = {s.queue_url.rsplit("/", 1)[-1] for f in stack.functions for s in f.sources if s.kind == "eventbridge"}

    listed = {url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]}

    assert len(taps) == 1
    assert listed == declared | taps


def test_push_queue_redrives_to_the_dead_letter_queue(template: dict[str, Any], stack: ProvisionedStack):
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=stack.outputs["PushQueueUrl"], AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=stack.outputs["PushDeadLetterQueueUrl"], AttributeNames=["QueueArn"])
    declared = template["Resources"]["PushQueue"]["Properties"]

    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn["Attributes"]["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == int(stack.physical_ids["PushMaxReceives"])
    assert attributes["VisibilityTimeout"] == str(declared["VisibilityTimeout"])


def test_bus_and_the_validator_rule(template: dict[str, Any], stack: ProvisionedStack):
    events = boto3.client("events", region_name=REGION)
    bus = stack.outputs["EventBusName"]
    source = _function(stack, "ValidatorFunction").sources[0]
    declared = template["Resources"]["ValidatorFunction"]["Properties"]["Events"]["CertificateIssued"]["Properties"]

    assert bus in {b["Name"] for b in events.list_event_buses()["EventBuses"]}
    # beside it, the rule EventBridge manages for the event archive (ManagedBy events.amazonaws.com)
    (rule,) = [r for r in events.list_rules(EventBusName=bus)["Rules"] if not r["Name"].startswith("Events-Archive-")]
    assert json.loads(rule["EventPattern"]) == declared["Pattern"]
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
    assert target["Arn"] == source.queue_arn
    assert source.dead_letter_arn is not None
    assert source.dead_letter_arn.endswith(":" + stack.name + "-issued-dlq")


def test_secret_keys_topic_and_alarms(template: dict[str, Any], stack: ProvisionedStack):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    key_id = stack.outputs["CertificateKeyId"]

    described = secrets.describe_secret(SecretId=stack.outputs["HuaweiCloudCredentialsSecretId"])
    assert described["Name"] == f"{stack.name}/huaweicloud/credentials"
    assert described["KmsKeyId"] == key_id
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases(KeyId=key_id)["Aliases"]}
    assert aliases == {f"alias/{stack.name}-certificates": key_id}

    sns = boto3.client("sns", region_name=REGION)
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert topics == [stack.outputs["NotifyTopicArn"]]
    topic = sns.get_topic_attributes(TopicArn=topics[0])["Attributes"]
    assert topic["KmsMasterKeyId"] == stack.physical_ids["NotificationKey"]
    assert sns.list_subscriptions()["Subscriptions"] == []  # no AlarmEmail: the condition is false

    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
    (alarm,) = [a for a in alarms if a["AlarmName"] == f"{stack.name}-push-dlq-not-empty"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": f"{stack.name}-push-dlq"}]
    assert {a["AlarmName"] for a in alarms} == {
        stack.physical_ids[lid] for lid in _resources(template, "AWS::CloudWatch::Alarm")
    }
    assert all(a["AlarmActions"] == [stack.outputs["NotifyTopicArn"]] for a in alarms)


def test_every_output_is_resolved(template: dict[str, Any], stack: ProvisionedStack):
    assert sorted(stack.outputs) == sorted(template["Outputs"])
    assert all(value and "${" not in value for value in stack.outputs.values())


@pytest.mark.parametrize(
    "logical_id", ["ValidatorFunction", "PushWorkerFunction", "NotifierFunction", "SweeperFunction"]
)
def test_function_specs_point_at_real_handlers(
    template: dict[str, Any], stack: ProvisionedStack, names: Resolver, logical_id: str
):
    spec = _function(stack, logical_id)
    declared = template["Resources"][logical_id]["Properties"]
    module, function = spec.handler.rsplit(".", 1)
    source = spec.code_dir / f"{module}.py"

    assert spec.name == names.resolve(declared["FunctionName"])
    assert spec.handler == declared["Handler"]
    assert source.is_file()
    defined = {n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.FunctionDef)}
    assert function in defined
    assert spec.timeout == template["Globals"]["Function"]["Timeout"]


@pytest.mark.parametrize("logical_id", ["ValidatorFunction", "PushWorkerFunction", "NotifierFunction"])
def test_function_environment_is_resolved_and_parses(
    template: dict[str, Any], stack: ProvisionedStack, logical_id: str
):
    spec = _function(stack, logical_id)
    variables = set(template["Globals"]["Function"]["Environment"]["Variables"])
    variables |= set(template["Resources"][logical_id]["Properties"]["Environment"]["Variables"])

    assert set(spec.environment) == variables
    settings = Settings.from_env(spec.environment)
    assert settings.records_table == stack.outputs["RecordsTableName"]
    assert settings.push_queue_url == stack.outputs["PushQueueUrl"]
    assert settings.certificate_kms_key_id == stack.outputs["CertificateKeyId"]


def test_event_sources_match_the_template(template: dict[str, Any], stack: ProvisionedStack):
    kinds = {"SQS": "sqs", "DynamoDB": "stream", "EventBridgeRule": "eventbridge", "Schedule": "schedule"}
    for function in _resources(template, "AWS::Serverless::Function"):
        declared = template["Resources"][function]["Properties"].get("Events", {})
        spec = _function(stack, function)
        assert [s.kind for s in spec.sources] == [kinds[e["Type"]] for e in declared.values()]

    (worker_source,) = _function(stack, "PushWorkerFunction").sources
    assert worker_source.queue_url == stack.outputs["PushQueueUrl"]
    assert worker_source.properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (stream_source,) = _function(stack, "NotifierFunction").sources
    declared_stream = template["Resources"]["NotifierFunction"]["Properties"]["Events"]["RecordChanges"]["Properties"]
    assert stream_source.properties["FilterCriteria"] == declared_stream["FilterCriteria"]
    assert stream_source.properties["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        f":{stack.name}-notifier-dlq"
    )
