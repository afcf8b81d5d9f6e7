"""AWS in-process with ``moto.mock_aws``, and the stack's stateful resources built from template.yaml
by the same Provisioner the embedded stack uses, so these tests cannot drift from the template.

- ``aws``: a fresh, empty moto account for one test (no stack), for adapters that need none.
- ``stack``: template.yaml provisioned once per module (about half a second); ``clean_stack`` empties
  its tables (the records table is made again, for a fresh stream), purges its queues and deletes the
  certificate secrets before each test that uses it, so tests do not see each other's data.

A module uses either ``aws`` or ``stack``, never both (moto would be started twice). Nothing here is
autouse: the Huawei Cloud tests in ``huaweicloud/`` never start moto.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest

from certpush_dev.local.provision import ProvisionedStack, Provisioner
from certpush_dev.local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
REGION = "us-east-1"
STACK_NAME = "certpush-it"

_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # a fake credential for moto, not a secret
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # botocore >= 1.44 would build account-specific endpoints that moto's DynamoDB Streams answer with 404
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # clean_stack purges the queues before every test; AWS (and moto by default) allow one purge a minute
    "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false",
    # the load balancer fixtures need a VPC, not moto's catalogue of public AMIs (seconds per region)
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    # no profile of the developer's (it could name an endpoint or a role)
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# anything that would send boto3 somewhere other than the in-process mock
_UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _aws_environment() -> pytest.MonkeyPatch:
    """Fake credentials and region, and no endpoint override (boto3 reads these when a client is
    made). The caller undoes the patch."""
    patch = pytest.MonkeyPatch()
    for name, value in _ENVIRONMENT.items():
        patch.setenv(name, value)
    service_overrides = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")]
    for name in (*_UNSET, *service_overrides):
        patch.delenv(name, raising=False)
    return patch


@pytest.fixture
def aws() -> Iterator[None]:
    """An empty moto account for one test."""
    patch = _aws_environment()
    try:
        with moto.mock_aws():
            yield
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def stack(template: dict[str, Any]) -> Iterator[ProvisionedStack]:
    """template.yaml provisioned in moto once per test module."""
    patch = _aws_environment()
    try:
        with moto.mock_aws():
            provisioner = Provisioner(boto3.Session(region_name=REGION), endpoint_url=None, root=REPO_ROOT)
            yield provisioner.provision(template, STACK_NAME)
    finally:
        patch.undo()


def _empty_table(table: Any) -> None:
    names = [k["AttributeName"] for k in table.key_schema]
    kwargs: dict[str, Any] = {"ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(names)))}
    kwargs["ExpressionAttributeNames"] = {f"#k{i}": name for i, name in enumerate(names)}
    with table.batch_writer() as batch:
        while True:
            page = table.scan(**kwargs)
            for item in page.get("Items", []):
                batch.delete_item(Key={name: item[name] for name in names})
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _recreate_table(table: Any) -> None:
    """The same table (as the template made it), empty and with a fresh stream. Emptying is not enough
    for a table with a stream: moto copies the whole table, its stream records included, on every
    TransactWriteItems, so each test would be slower than the one before."""
    client = table.meta.client
    description = client.describe_table(TableName=table.name)["Table"]
    arguments: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": description["KeySchema"],
        "AttributeDefinitions": description["AttributeDefinitions"],
        "BillingMode": description.get("BillingModeSummary", {}).get("BillingMode", "PAY_PER_REQUEST"),
        "StreamSpecification": description["StreamSpecification"],
    }
    if description.get("GlobalSecondaryIndexes"):
        arguments["GlobalSecondaryIndexes"] = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in description["GlobalSecondaryIndexes"]
        ]
    client.delete_table(TableName=table.name)
    client.create_table(**arguments)


@pytest.fixture(scope="module")
def dynamodb(stack: ProvisionedStack) -> Any:
    """A DynamoDB resource of the module's moto account (clients are slow to make: one per module)."""
    return boto3.resource("dynamodb", region_name=REGION)


@pytest.fixture(scope="module")
def sqs(stack: ProvisionedStack) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture(scope="module")
def secretsmanager(stack: ProvisionedStack) -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def clean_stack(stack: ProvisionedStack, dynamodb: Any, sqs: Any, secretsmanager: Any) -> ProvisionedStack:
    """The module's stack with empty tables and queues and no certificate secrets."""
    for output in ("RecordsTableName", "InventoryTableName"):
        table = dynamodb.Table(stack.outputs[output])
        if table.stream_specification:
            _recreate_table(table)
        else:
            _empty_table(table)
    for url in sqs.list_queues(QueueNamePrefix=stack.name).get("QueueUrls", []):
        sqs.purge_queue(QueueUrl=url)
    prefix = stack.outputs["SecretsPrefix"] + "/"
    # a retired version's secret is scheduled for deletion, not gone: list those too
    for page in secretsmanager.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True):
        for secret in page["SecretList"]:
            if secret["Name"].startswith(prefix):
                secretsmanager.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
    return stack


@pytest.fixture
def host_database(tmp_path: Path) -> Iterator[Any]:
    """The one-machine host's database (SQLite) in a fresh file, for the host's adapters."""
    from certpush_cli.host.database import Database

    database = Database(tmp_path / "certpush.db")
    yield database
    database.close()


@pytest.fixture
def sealed_box() -> Any:
    """The host's AES-GCM box under a key made for the test."""
    from certpush_cli.host.cipher import SealedBox

    return SealedBox(os.urandom(32))
