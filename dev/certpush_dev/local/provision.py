"""Creates the stateful resources of template.yaml (tables, queues, bus, rules, secrets, keys,
topics, alarms) in moto, and reads the functions and their event sources for the pollers.

Lambda itself is not emulated (moto needs Docker for that): functions become ``FunctionSpec``s
that the pollers invoke in-process. An EventBridge rule that targets a function gets a local
"tap" queue as its target instead, which the embedded stack polls and hands to the function."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from certpush_dev.local.template import Resolver, Unresolved

SKIPPED_TYPES = {"AWS::Serverless::LayerVersion", "AWS::IAM::Role", "AWS::Lambda::Permission"}


@dataclass
class EventSource:
    kind: str  # "sqs", "stream", "eventbridge" or "schedule"
    properties: dict[str, Any]
    queue_url: str | None = None  # sqs and eventbridge (the tap queue)
    queue_arn: str | None = None
    dead_letter_arn: str | None = None


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, str]
    sources: list[EventSource] = field(default_factory=list)
    # EventInvokeConfig (SAM), resolved: how Lambda retries an asynchronous invocation
    event_invoke_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProvisionedStack:
    name: str
    region: str
    account: str
    outputs: dict[str, str]
    functions: list[FunctionSpec]
    physical_ids: dict[str, str]


def _conditions(conditions: dict[str, Any], resolver: Resolver) -> dict[str, bool]:
    """Evaluates the template's Conditions (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)."""
    values: dict[str, bool] = {}

    def evaluate(expression: Any) -> bool:
        ((name, argument),) = expression.items()
        if name == "Condition":
            return values.setdefault(argument, evaluate(conditions[argument]))
        if name == "Fn::Equals":
            left, right = (resolver.resolve(a) for a in argument)
            return str(left) == str(right)
        if name == "Fn::Not":
            return not evaluate(argument[0])
        if name == "Fn::And":
            return all(evaluate(a) for a in argument)
        if name == "Fn::Or":
            return any(evaluate(a) for a in argument)
        raise ValueError(f"the embedded stack cannot evaluate the condition {name}")

    for condition_name, expression in conditions.items():
        values[condition_name] = evaluate(expression)
    return values


class Provisioner:
    def __init__(self, session: boto3.Session, endpoint_url: str | None, root: Path) -> None:
        """``endpoint_url=None``: boto3's own resolution (in-process ``moto.mock_aws``, or AWS)."""
        self._session = session
        self._endpoint = endpoint_url
        self._root = root
        self._generated_queues: dict[str, str] = {}  # logical id -> ARN of queues SAM would create

    def _client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint)  # type: ignore[call-overload]

    def provision(
        self, template: dict[str, Any], stack_name: str, parameters: dict[str, str] | None = None
    ) -> ProvisionedStack:
        region = self._session.region_name or "us-east-1"
        account = self._client("sts").get_caller_identity()["Account"]
        params = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
        params.update(parameters or {})
        resolver = Resolver(
            pseudo={
                "AWS::StackName": stack_name,
                "AWS::Region": region,
                "AWS::AccountId": account,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            },
            parameters=params,
        )
        conditions = _conditions(template.get("Conditions", {}), resolver)
        resources: dict[str, Any] = {
            lid: r for lid, r in template["Resources"].items() if conditions.get(r.get("Condition", ""), True)
        }
        resolver.conditions = conditions
        for logical_id, resource in resources.items():
            if resource["Type"] in SKIPPED_TYPES:
                resolver.refs[logical_id] = f"local-{logical_id}"
                if resource["Type"] == "AWS::IAM::Role":  # named in the certificate key's policy
                    resolver.attributes[(logical_id, "Arn")] = f"arn:aws:iam::{account}:role/{logical_id}"
            elif resource["Type"] == "AWS::Serverless::Function":
                self._sam_generated(stack_name, logical_id, resource, resolver)
        functions: list[tuple[str, dict[str, Any]]] = []
        pending = [(lid, r) for lid, r in resources.items() if r["Type"] not in SKIPPED_TYPES]
        while pending:
            deferred = []
            for logical_id, resource in pending:
                if resource["Type"] == "AWS::Serverless::Function":
                    functions.append((logical_id, resource))
                    # Ref of a function is its name (e.g. in the operations dashboard)
                    name = resource.get("Properties", {}).get("FunctionName", logical_id)
                    resolver.refs[logical_id] = str(resolver.resolve(name))
                    continue
                try:
                    properties = resolver.resolve(resource.get("Properties", {}))
                except Unresolved:
                    deferred.append((logical_id, resource))
                    continue
                self._create(resource["Type"], logical_id, properties, resolver)
            if len(deferred) == len(pending):
                names = ", ".join(lid for lid, _ in deferred)
                raise ValueError(f"template references that cannot be resolved locally: {names}")
            pending = deferred

        globals_ = template.get("Globals", {}).get("Function", {})
        specs = [self._function(lid, r, globals_, resolver, stack_name) for lid, r in functions]
        outputs = {name: str(resolver.resolve(o["Value"])) for name, o in template.get("Outputs", {}).items()}
        return ProvisionedStack(stack_name, region, account, outputs, specs, dict(resolver.refs))

    # -- resources ------------------------------------------------------------------------------
    def _create(self, kind: str, logical_id: str, p: dict[str, Any], resolver: Resolver) -> None:
        refs, attrs = resolver.refs, resolver.attributes
        if kind == "AWS::KMS::Key":
            args = {"Description": p.get("Description", logical_id)}
            if "KeyPolicy" in p:
                args["Policy"] = json.dumps(p["KeyPolicy"])
            key = self._client("kms").create_key(**args)["KeyMetadata"]
            refs[logical_id] = key["KeyId"]
            attrs[(logical_id, "Arn")] = key["Arn"]
        elif kind == "AWS::KMS::Alias":
            self._client("kms").create_alias(AliasName=p["AliasName"], TargetKeyId=p["TargetKeyId"])
            refs[logical_id] = p["AliasName"]
        elif kind == "AWS::SecretsManager::Secret":
            args = {k: p[k] for k in ("Name", "Description", "KmsKeyId", "SecretString") if k in p}
            arn = self._client("secretsmanager").create_secret(**args)["ARN"]
            refs[logical_id] = arn
            attrs[(logical_id, "Id")] = arn
        elif kind == "AWS::Events::EventBus":
            arn = self._client("events").create_event_bus(Name=p["Name"])["EventBusArn"]
            refs[logical_id] = p["Name"]
            attrs[(logical_id, "Arn")] = arn
            attrs[(logical_id, "Name")] = p["Name"]
        elif kind == "AWS::DynamoDB::Table":
            self._table(logical_id, p, resolver)
        elif kind == "AWS::SQS::Queue":
            attributes: dict[str, str] = {
                k: str(p[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds") if k in p
            }
            if "RedrivePolicy" in p:
                attributes["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
            sqs = self._client("sqs")
            url = sqs.create_queue(QueueName=p["QueueName"], Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            refs[logical_id] = url
            attrs[(logical_id, "Arn")] = arn
            attrs[(logical_id, "QueueName")] = p["QueueName"]
            attrs[(logical_id, "QueueUrl")] = url
        elif kind == "AWS::SQS::QueuePolicy":
            for url in p["Queues"]:
                self._client("sqs").set_queue_attributes(
                    QueueUrl=url, Attributes={"Policy": json.dumps(p["PolicyDocument"])}
                )
            refs[logical_id] = f"local-{logical_id}"
        elif kind == "AWS::SNS::Topic":
            topic_attributes = {"KmsMasterKeyId": str(p["KmsMasterKeyId"])} if "KmsMasterKeyId" in p else {}
            arn = self._client("sns").create_topic(Name=p["TopicName"], Attributes=topic_attributes)["TopicArn"]
            refs[logical_id] = arn
            attrs[(logical_id, "TopicName")] = p["TopicName"]
            attrs[(logical_id, "TopicArn")] = arn
        elif kind == "AWS::Events::Archive":
            archive: dict[str, Any] = {"ArchiveName": p["ArchiveName"], "EventSourceArn": p["SourceArn"]}
            archive |= {k: p[k] for k in ("Description", "RetentionDays") if k in p}
            if "EventPattern" in p:
                archive["EventPattern"] = json.dumps(p["EventPattern"])
            arn = self._client("events").create_archive(**archive)["ArchiveArn"]
            refs[logical_id] = p["ArchiveName"]
            attrs[(logical_id, "Arn")] = arn
        elif kind == "AWS::CloudWatch::Dashboard":
            self._client("cloudwatch").put_dashboard(DashboardName=p["DashboardName"], DashboardBody=p["DashboardBody"])
            refs[logical_id] = p["DashboardName"]
        elif kind == "AWS::CloudWatch::Alarm":
            self._client("cloudwatch").put_metric_alarm(**p)
            refs[logical_id] = p["AlarmName"]
        elif kind == "AWS::Logs::LogGroup":
            logs = self._client("logs")
            logs.create_log_group(logGroupName=p["LogGroupName"])
            if "RetentionInDays" in p:
                logs.put_retention_policy(logGroupName=p["LogGroupName"], retentionInDays=int(p["RetentionInDays"]))
            refs[logical_id] = p["LogGroupName"]
        elif kind == "AWS::SNS::Subscription":
            arn = self._client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"])
            refs[logical_id] = arn["SubscriptionArn"]
        else:
            raise ValueError(f"the embedded stack cannot create {kind} ({logical_id})")

    def _table(self, logical_id: str, p: dict[str, Any], resolver: Resolver) -> None:
        ddb = self._client("dynamodb")
        args: dict[str, Any] = {
            "TableName": p["TableName"],
            "KeySchema": p["KeySchema"],
            "AttributeDefinitions": p["AttributeDefinitions"],
            "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in p:
            args["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        if "StreamSpecification" in p:
            args["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        table = ddb.create_table(**args)["TableDescription"]
        if "TimeToLiveSpecification" in p:
            ddb.update_time_to_live(TableName=p["TableName"], TimeToLiveSpecification=p["TimeToLiveSpecification"])
        resolver.refs[logical_id] = p["TableName"]
        resolver.attributes[(logical_id, "Arn")] = table["TableArn"]
        if "LatestStreamArn" in table:
            resolver.attributes[(logical_id, "StreamArn")] = table["LatestStreamArn"]

    # -- what the SAM transform adds ---------------------------------------------------------------
    def _sam_generated(self, stack_name: str, logical_id: str, resource: dict[str, Any], resolver: Resolver) -> None:
        """Names of what SAM makes for a function, so that other resources can refer to them: the
        function itself, its rules (``{Function}{Event}``) and a rule's dead-letter queue when
        ``DeadLetterConfig`` has ``Type: SQS`` (SAM creates it, with the queue policy)."""
        props = resource["Properties"]
        resolver.refs[logical_id] = str(resolver.resolve(props.get("FunctionName", logical_id)))
        for event_name, event in props.get("Events", {}).items():
            if event["Type"] not in ("EventBridgeRule", "Schedule"):
                continue
            rule_name = f"{stack_name}-{logical_id}-{event_name}"[:64]
            resolver.refs[f"{logical_id}{event_name}"] = rule_name
            region, account = resolver.refs["AWS::Region"], resolver.refs["AWS::AccountId"]
            rule_arn = f"arn:aws:events:{region}:{account}:rule/{rule_name}"
            resolver.attributes[(f"{logical_id}{event_name}", "Arn")] = rule_arn
            dead_letter = event.get("Properties", {}).get("DeadLetterConfig", {})
            if dead_letter.get("Type") == "SQS":
                queue_id = dead_letter.get("QueueLogicalId") or f"{logical_id}{event_name}Queue"
                sqs = self._client("sqs")
                url = sqs.create_queue(QueueName=f"{stack_name}-{queue_id}"[:80])["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self._generated_queues[queue_id] = arn
                resolver.refs[queue_id] = url
                resolver.attributes[(queue_id, "Arn")] = arn
                resolver.attributes[(queue_id, "QueueName")] = f"{stack_name}-{queue_id}"[:80]
                resolver.attributes[(queue_id, "QueueUrl")] = url

    # -- functions ------------------------------------------------------------------------------
    def _function(
        self,
        logical_id: str,
        resource: dict[str, Any],
        globals_: dict[str, Any],
        resolver: Resolver,
        stack_name: str,
    ) -> FunctionSpec:
        props = resource["Properties"]
        env = {
            **resolver.resolve(globals_.get("Environment", {}).get("Variables", {})),
            **resolver.resolve(props.get("Environment", {}).get("Variables", {})),
        }
        name = str(resolver.resolve(props.get("FunctionName", logical_id)))
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            code_dir=self._root / str(props["CodeUri"]),
            handler=str(props["Handler"]),
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            environment={k: str(v) for k, v in env.items()},
            event_invoke_config=resolver.resolve(props.get("EventInvokeConfig", {})),
        )
        if "FunctionUrlConfig" in props:
            # SAM names the AWS::Lambda::Url it generates "{function}Url" (SAM spec, FunctionUrlConfig); no
            # URL exists locally: `certpush dashboard` serves the handler instead
            resolver.attributes[(f"{logical_id}Url", "FunctionUrl")] = f"local: certpush dashboard ({name})"
        for event_name, event in props.get("Events", {}).items():
            ep = resolver.resolve(event.get("Properties", {}))
            if event["Type"] == "SQS":
                url = self._client("sqs").get_queue_url(QueueName=ep["Queue"].rsplit(":", 1)[-1])["QueueUrl"]
                spec.sources.append(EventSource("sqs", ep, queue_url=url, queue_arn=ep["Queue"]))
            elif event["Type"] == "DynamoDB":
                spec.sources.append(EventSource("stream", ep))
            elif event["Type"] == "EventBridgeRule":
                spec.sources.append(self._rule(stack_name, logical_id, event_name, ep))
            elif event["Type"] == "Schedule":
                spec.sources.append(EventSource("schedule", ep))
            else:
                raise ValueError(f"the embedded stack cannot deliver {event['Type']} events ({logical_id})")
        return spec

    def _rule(self, stack_name: str, function_id: str, event_name: str, ep: dict[str, Any]) -> EventSource:
        """The rule as in the template; its target is a tap queue standing in for Lambda's async invoke."""
        sqs, events = self._client("sqs"), self._client("events")
        dead_letter = ep.get("DeadLetterConfig", {}).get("Arn") or self._generated_queues.get(
            ep.get("DeadLetterConfig", {}).get("QueueLogicalId", "")
        )
        attributes = {"VisibilityTimeout": "30"}
        tap_name = f"{stack_name}-local-{function_id}-{event_name}"[:80]
        url = sqs.create_queue(QueueName=tap_name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule_name = f"{stack_name}-{function_id}-{event_name}"[:64]
        bus = ep.get("EventBusName", "default")
        events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=json.dumps(ep["Pattern"]), State="ENABLED")
        events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[{"Id": "function", "Arn": arn}])
        return EventSource("eventbridge", ep, queue_url=url, queue_arn=arn, dead_letter_arn=dead_letter)
