"""What the validator did with each issuance of an event replay (port ``ReplayLog``), in the records
table: PK ``REPLAY#{replay name}``, SK ``ISSUANCE#{issuance id}`` (one Query lists a replay's). The
stream's filter takes HIST items only: these reach no notifier."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from certpush.adapters.aws_clients import aws_resource
from certpush.adapters.aws_errors import aws_errors
from certpush.models.domain import ReplayReport
from certpush.models.items import parse_timestamp, timestamp

ITEM_REPLAY = "REPLAY"


class DynamoDBReplayLog:
    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        self._table = (resource or aws_resource("dynamodb")).Table(table_name)

    @aws_errors("records: note replay")
    def note(self, report: ReplayReport) -> None:
        self._table.put_item(
            Item={
                "PK": f"REPLAY#{report.replay_name}",
                "SK": f"ISSUANCE#{report.issuance_id}",
                "type": ITEM_REPLAY,
                "certificate_id": report.certificate_id,
                "version": report.version,
                "actions": dict(report.actions),
                "noted_at": timestamp(report.noted_at),
            }
        )

    @aws_errors("records: replay reports")
    def reports(self, replay_name: str) -> list[ReplayReport]:
        arguments: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(f"REPLAY#{replay_name}"),
            "ConsistentRead": True,
        }
        found: list[ReplayReport] = []
        while True:
            response = self._table.query(**arguments)
            found += [
                ReplayReport(
                    replay_name=replay_name,
                    issuance_id=str(item["SK"]).removeprefix("ISSUANCE#"),
                    certificate_id=str(item["certificate_id"]),
                    version=int(item["version"]),
                    actions={str(k): str(v) for k, v in item.get("actions", {}).items()},
                    noted_at=parse_timestamp(str(item["noted_at"])),
                )
                for item in response.get("Items", [])
            ]
            if "LastEvaluatedKey" not in response:
                return sorted(found, key=lambda r: (r.noted_at, r.issuance_id))
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
