"""The policy store (port ``PolicyStore``): push policies in the inventory table, one item each,
``POLICY`` / ``{name}``, beside the certificates (``certificate_store.py``)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from certpush.adapters.aws_clients import aws_resource
from certpush.adapters.aws_errors import aws_errors
from certpush.models.domain import PushPolicy


class DynamoDBPolicyStore:
    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        self._table = (resource or aws_resource("dynamodb")).Table(table_name)

    @aws_errors("policies: list_policies")
    def list_policies(self) -> list[PushPolicy]:
        items = self._table.query(KeyConditionExpression=Key("PK").eq("POLICY")).get("Items", [])
        return [PushPolicy.model_validate_json(str(item["policy"])) for item in items]

    @aws_errors("policies: put_policy")
    def put_policy(self, policy: PushPolicy) -> None:
        self._table.put_item(
            Item={"PK": "POLICY", "SK": policy.name, "type": "POLICY", "policy": policy.model_dump_json()}
        )

    @aws_errors("policies: delete_policy")
    def delete_policy(self, name: str) -> bool:
        response = self._table.delete_item(Key={"PK": "POLICY", "SK": name}, ReturnValues="ALL_OLD")
        return "Attributes" in response
