"""Finds a certpush stack's resources from its CloudFormation outputs: a deployed stack, or the
embedded stack (which publishes the same outputs in moto). Honours AWS_ENDPOINT_URL."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from certpush.adapters.aws_clients import aws_client
from certpush.errors import ConfigurationError
from certpush.settings import Settings

# the stack's own settings; each target's come from its settings class (``STACK_OUTPUTS``)
OUTPUT_TO_SETTING = {
    "RecordsTableName": "RECORDS_TABLE",
    "InventoryTableName": "INVENTORY_TABLE",
    "PushQueueUrl": "PUSH_QUEUE_URL",
    "EventBusName": "EVENT_BUS_NAME",
    "NotifyTopicArn": "NOTIFY_TOPIC_ARN",
    "CertificateKeyId": "CERTIFICATE_KMS_KEY_ID",
    "SecretsPrefix": "SECRETS_PREFIX",
    "ExpiryWarningDays": "EXPIRY_WARNING_DAYS",
}


def stack_outputs(stack_name: str, client: Any | None = None) -> dict[str, str]:
    try:
        stacks = (client or aws_client("cloudformation")).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise ConfigurationError(
            f"no certpush stack named '{stack_name}' here ({exc.response['Error'].get('Message')}). "
            "Deploy it with `sam build && sam deploy`, or start the embedded stack with `certpush-dev stack up` "
            "and `eval $(certpush-dev stack env)`."
        ) from exc
    except BotoCoreError as exc:
        raise ConfigurationError(
            f"cannot reach CloudFormation to find stack '{stack_name}': {exc} Set AWS_REGION and credentials for a "
            "deployed stack, or `eval $(certpush-dev stack env)` after `certpush-dev stack up` for the embedded one."
        ) from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def operator_settings() -> list[str]:
    """Where the CLI itself calls a target (retract), it reaches it with the operator's settings: every
    variable of every target's settings class (``HUAWEICLOUD_SITE``, ``HUAWEICLOUD_CDN_ENTERPRISE_PROJECT_ID``...),
    read from the registry, so a new target's settings need no line here."""
    from certpush.environment import variable_of
    from certpush.providers.registry import REGISTRY

    return [
        variable_of(kind, name, field)
        for kind in REGISTRY.settings_classes()
        for name, field in kind.model_fields.items()
    ]


def _output_to_setting() -> dict[str, str]:
    from certpush.environment import variable_of
    from certpush.providers.registry import REGISTRY

    targets = {
        output: variable_of(kind, name, kind.model_fields[name])
        for kind in REGISTRY.settings_classes()
        for output, name in kind.STACK_OUTPUTS.items()
    }
    return {**OUTPUT_TO_SETTING, **targets}


def settings_for_stack(stack_name: str, operator: Mapping[str, str] | None = None) -> Settings:
    outputs = stack_outputs(stack_name)
    environment = {setting: outputs[output] for output, setting in _output_to_setting().items() if output in outputs}
    given = os.environ if operator is None else operator
    # what the stack's outputs say wins (its credentials' secret): the operator's settings fill the rest
    environment.update(
        {name: given[name] for name in operator_settings() if given.get(name) and name not in environment}
    )
    return Settings.from_env(environment)
