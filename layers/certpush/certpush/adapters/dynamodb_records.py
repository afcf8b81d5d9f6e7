"""Records repository on DynamoDB (see certpush.models.items for the key design)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from certpush.adapters.aws_clients import aws_resource
from certpush.adapters.aws_errors import aws_errors
from certpush.adapters.concurrency import run_concurrently
from certpush.adapters.dynamodb_batch import batch_get
from certpush.errors import PushInProgressError, StalePushError
from certpush.models.domain import HISTORY_LENGTH, Issuance, IssuanceProgress, PushRecord, PushStatus, TargetKey
from certpush.models.events import IssuanceSummaryDetail
from certpush.models.items import (
    ITEM_BINDING,
    ITEM_ISSUANCE,
    binding_sk,
    cert_pk,
    current_item,
    history_item,
    issuance_pk,
    push_sk,
    record_from_item,
    timestamp,
)

_ACTIVE = (PushStatus.PENDING.value, PushStatus.IN_PROGRESS.value)
# a new push may take the place of these (with --force, of a SUCCEEDED one too)
_REPLACEABLE = [PushStatus.FAILED.value, PushStatus.REJECTED.value, PushStatus.RETRACTED.value]


def _condition_failed(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
    return False


def _written(write: Callable[..., Any], **arguments: Any) -> bool:
    """Runs a conditional write: False when its condition did not hold (then nothing was written)."""
    try:
        write(**arguments)
    except ClientError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


class DynamoDBRecordsRepository:
    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        self._resource = resource or aws_resource("dynamodb")
        self._table = self._resource.Table(table_name)
        self._client = self._table.meta.client  # a resource's client: takes and returns plain Python values
        self._table_name = table_name

    # -- reads -----------------------------------------------------------------------------------
    @aws_errors("records: get")
    def get(self, certificate_id: str, version: int, target: TargetKey) -> PushRecord | None:
        response = self._table.get_item(
            Key={"PK": cert_pk(certificate_id), "SK": push_sk(version, target)}, ConsistentRead=True
        )
        item = response.get("Item")
        return record_from_item(item) if item else None

    @aws_errors("records: list_current")
    def list_current(self, certificate_id: str) -> list[PushRecord]:
        return [
            record_from_item(item)
            for item in self._query(
                KeyConditionExpression=Key("PK").eq(cert_pk(certificate_id)) & Key("SK").begins_with("PUSH#"),
                ConsistentRead=True,
            )
        ]

    @aws_errors("records: history")
    def history(self, certificate_id: str, limit: int = HISTORY_LENGTH) -> list[PushRecord]:
        key = Key("PK").eq(cert_pk(certificate_id)) & Key("SK").begins_with("HIST#")
        return self._newest_first(key, limit)

    @aws_errors("records: by_status")
    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]:
        return self._newest_first(Key("GSI1PK").eq(f"STATUS#{status.value}"), limit, index="ByStatus")

    @aws_errors("records: by_target")
    def by_target(self, target: TargetKey, limit: int = 100) -> list[PushRecord]:
        key = Key("GSI2PK").eq(f"TARGET#{target.provider}#{target.service}#{target.region}")
        return self._newest_first(key, limit, index="ByTarget")

    def _newest_first(self, key: Any, limit: int, index: str | None = None) -> list[PushRecord]:
        """One Query, descending by sort key (every sort key here starts with a timestamp)."""
        arguments: dict[str, Any] = {"KeyConditionExpression": key, "ScanIndexForward": False, "Limit": limit}
        if index:
            arguments["IndexName"] = index
        return [record_from_item(item) for item in self._table.query(**arguments).get("Items", [])]

    @aws_errors("records: deployed_target_id")
    def deployed_target_id(self, certificate_id: str, target: TargetKey) -> str | None:
        response = self._table.get_item(
            Key={"PK": cert_pk(certificate_id), "SK": binding_sk(target)}, ConsistentRead=True
        )
        item = response.get("Item")
        return str(item["target_id"]) if item else None

    @aws_errors("records: deployed_target_ids")
    def deployed_target_ids(self, wanted: Sequence[tuple[str, TargetKey]]) -> dict[tuple[str, TargetKey], str]:
        keys = {
            (cert_pk(certificate_id), binding_sk(target)): (certificate_id, target) for certificate_id, target in wanted
        }
        found: dict[tuple[str, TargetKey], str] = {}
        for item in batch_get(self._client, self._table_name, list(keys), consistent=True):
            found[keys[(str(item["PK"]), str(item["SK"]))]] = str(item["target_id"])
        return found

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- writes ----------------------------------------------------------------------------------
    # a new push may replace a FAILED, REJECTED or RETRACTED one (with force, a SUCCEEDED one too),
    # never itself (an event delivered twice)
    @staticmethod
    def _start_arguments(record: PushRecord, force: bool) -> dict[str, Any]:
        replaceable = [*_REPLACEABLE, PushStatus.SUCCEEDED.value] if force else _REPLACEABLE
        names = {f":r{i}": status for i, status in enumerate(replaceable)}
        return {
            "Item": current_item(record),
            "ConditionExpression": f"attribute_not_exists(PK) OR (#s IN ({', '.join(names)}) AND push_id <> :pid)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {**names, ":pid": record.push_id},
        }

    @aws_errors("records: start_push")
    def start_push(self, record: PushRecord, *, force: bool = False) -> bool:
        return _written(self._client.put_item, TableName=self._table_name, **self._start_arguments(record, force))

    def start_pushes(self, records: Sequence[PushRecord], *, force: bool = False) -> list[bool]:
        """One conditional PutItem each, at the same time (up to ten): an issuance of 20 targets
        takes about one round trip instead of twenty. A TransactWriteItems would save calls but cost
        twice the write units, and two identical events at once would cancel each other's
        transactions (TransactionConflict) where conditional writes simply let one win."""
        return run_concurrently(lambda record: self.start_push(record, force=force), records, 10, name="start")

    @aws_errors("records: mark_in_progress")
    def mark_in_progress(self, record: PushRecord, lease_seconds: int = 60) -> PushRecord:
        """Claims the push with a lease and counts an attempt, in one conditional write. This is the
        only guard against two deliveries of a message pushing at once (it replaced Powertools
        idempotency, which took two more writes per push for the same protection)."""
        item = current_item(record)
        now = timestamp(record.updated_at)
        try:
            response = self._table.update_item(
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="SET #s = :s, GSI1PK = :g1, GSI1SK = :g1s, GSI2SK = :g2s, updated_at = :u, "
                "lease_until = :lease ADD attempts :one",
                ConditionExpression="push_id = :pid AND (#s = :p OR (#s = :ip AND "
                "(attribute_not_exists(lease_until) OR lease_until < :u)))",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": PushStatus.IN_PROGRESS.value,
                    ":g1": f"STATUS#{PushStatus.IN_PROGRESS.value}",
                    ":g1s": item["GSI1SK"],
                    ":g2s": item["GSI2SK"],
                    ":u": now,
                    ":lease": timestamp(record.updated_at + timedelta(seconds=lease_seconds)),
                    ":one": 1,
                    ":pid": record.push_id,
                    ":p": _ACTIVE[0],
                    ":ip": _ACTIVE[1],
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            # rare: say why (one read), since a held lease must come back later and a stale push must not
            current = self.get(record.certificate_id, record.version, record.target)
            if current is not None and current.push_id == record.push_id and current.status is PushStatus.IN_PROGRESS:
                raise PushInProgressError(record.push_id) from exc
            raise StalePushError(record.push_id) from exc
        return record_from_item(response["Attributes"])

    @aws_errors("records: note_error")
    def note_error(self, record: PushRecord) -> None:
        """Keeps the last transient error on an in-progress record (status unchanged)."""
        key = {"PK": cert_pk(record.certificate_id), "SK": push_sk(record.version, record.target)}
        _written(
            self._table.update_item,
            Key=key,
            UpdateExpression="SET reason = :r, message = :m, updated_at = :u REMOVE lease_until",
            ConditionExpression="push_id = :pid AND #s = :ip",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":r": record.reason or "",
                ":m": record.message or "",
                ":u": timestamp(record.updated_at),
                ":pid": record.push_id,
                ":ip": PushStatus.IN_PROGRESS.value,
            },
        )

    def _state_and_history(self, record: PushRecord, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """A transaction's first two writes: the record's new state, if ``condition`` holds on the
        current one (``#s`` is its status), and its history entry."""
        return [
            {
                "Put": {
                    "TableName": self._table_name,
                    "Item": current_item(record),
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
            {"Put": {"TableName": self._table_name, "Item": history_item(record)}},
        ]

    @aws_errors("records: finish")
    def finish(self, record: PushRecord) -> bool:
        """Final state + history entry in one transaction, once per push. False if already final."""
        transaction = self._state_and_history(
            record, "push_id = :pid AND #s IN (:p, :ip)", {":pid": record.push_id, ":p": _ACTIVE[0], ":ip": _ACTIVE[1]}
        )
        if record.status is PushStatus.SUCCEEDED and record.target_id:
            transaction.append(
                {
                    "Put": {
                        "TableName": self._table_name,
                        "Item": {
                            "PK": cert_pk(record.certificate_id),
                            "SK": binding_sk(record.target),
                            "type": ITEM_BINDING,
                            "target_id": record.target_id,
                            "version": record.version,
                            "updated_at": timestamp(record.updated_at),
                        },
                    }
                }
            )
        return _written(self._client.transact_write_items, TransactItems=transaction)

    @aws_errors("records: record_retraction")
    def record_retraction(self, record: PushRecord) -> bool:
        retracted = record.model_copy(update={"status": PushStatus.RETRACTED})
        key = {"PK": cert_pk(record.certificate_id), "SK": binding_sk(record.target)}
        binding = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        transaction = self._state_and_history(
            retracted, "push_id = :pid AND #s = :ok", {":pid": record.push_id, ":ok": PushStatus.SUCCEEDED.value}
        )
        if binding is not None and binding.get("target_id") == record.target_id:
            transaction.append(
                {
                    "Delete": {
                        "TableName": self._table_name,
                        "Key": key,
                        "ConditionExpression": "target_id = :tid",
                        "ExpressionAttributeValues": {":tid": record.target_id},
                    }
                }
            )
        return _written(self._client.transact_write_items, TransactItems=transaction)

    @aws_errors("records: record_rejection")
    def record_rejection(self, record: PushRecord, *, keep_current: bool) -> None:
        if not keep_current:
            _written(
                self._table.put_item,
                Item=current_item(record),
                ConditionExpression=Attr("PK").not_exists() | Attr("status").is_in(_REPLACEABLE),
            )
        self._table.put_item(Item=history_item(record))

    # -- the sweeper -----------------------------------------------------------------------------
    @aws_errors("records: in_flight_since")
    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        """ByStatus sort keys start with the time of the last status change: one range per status."""
        found: list[PushRecord] = []
        for status in _ACTIVE:
            key = Key("GSI1PK").eq(f"STATUS#{status}") & Key("GSI1SK").lt(timestamp(cutoff))
            found += [record_from_item(i) for i in self._query(IndexName="ByStatus", KeyConditionExpression=key)]
        # the index is eventually consistent and a transient error touches only updated_at: re-read
        current = [self.get(r.certificate_id, r.version, r.target) for r in found]
        return [r for r in current if r is not None and r.status.value in _ACTIVE and r.updated_at < cutoff]

    @aws_errors("records: note_swept")
    def note_swept(self, record: PushRecord, now: datetime) -> bool:
        item = current_item(record.model_copy(update={"updated_at": now}))
        return _written(
            self._table.update_item,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET updated_at = :u, GSI1SK = :g1s, GSI2SK = :g2s ADD sweeps :one",
            ConditionExpression="push_id = :pid AND #s = :s AND updated_at = :seen",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":u": item["updated_at"],
                ":g1s": item["GSI1SK"],
                ":g2s": item["GSI2SK"],
                ":one": 1,
                ":pid": record.push_id,
                ":s": record.status.value,
                ":seen": timestamp(record.updated_at),
            },
        )

    # -- issuances -------------------------------------------------------------------------------
    @aws_errors("records: mark_summary_sent")
    def mark_summary_sent(self, issuance_id: str) -> None:
        self._table.update_item(
            Key={"PK": issuance_pk(issuance_id), "SK": ITEM_ISSUANCE},
            UpdateExpression="SET summary_sent = :t",
            ExpressionAttributeValues={":t": True},
        )

    @aws_errors("records: get_issuance")
    def get_issuance(self, issuance_id: str) -> IssuanceProgress | None:
        item = self._table.get_item(Key={"PK": issuance_pk(issuance_id), "SK": ITEM_ISSUANCE}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return IssuanceProgress(
            issuance_id=issuance_id,
            certificate_id=str(item["certificate_id"]),
            version=int(item["version"]),
            targets=[str(t) for t in item.get("targets", [])],
            outcomes={str(k): str(v) for k, v in item.get("outcomes", {}).items()},
        )

    @aws_errors("records: put_issuance")
    def put_issuance(self, issuance: Issuance) -> None:
        _written(
            self._table.put_item,
            Item={
                "PK": issuance_pk(issuance.issuance_id),
                "SK": ITEM_ISSUANCE,
                "type": ITEM_ISSUANCE,
                "certificate_id": issuance.certificate_id,
                "version": issuance.version,
                "targets": [str(t) for t in issuance.targets],
                "total": len(issuance.targets),
                "outcomes": {},
                "created_at": timestamp(issuance.created_at),
            },
            ConditionExpression=Attr("PK").not_exists(),
        )

    def note_final(self, issuance_id: str, target: TargetKey, outcome: str) -> IssuanceSummaryDetail | None:
        return self.note_finals(issuance_id, {target: outcome})

    @aws_errors("records: note_finals")
    def note_finals(self, issuance_id: str, outcomes: Mapping[TargetKey, str]) -> IssuanceSummaryDetail | None:
        """Sets the outcomes of some targets of an issuance in one write (a stream batch holds many
        targets of one issuance); returns the summary once every target has one and none was sent."""
        key = {"PK": issuance_pk(issuance_id), "SK": ITEM_ISSUANCE}
        names = {f"#t{i}": str(target) for i, target in enumerate(outcomes)}
        values = {f":s{i}": str(outcome) for i, outcome in enumerate(outcomes.values())}
        try:
            response = self._table.update_item(
                Key=key,
                UpdateExpression="SET " + ", ".join(f"outcomes.#t{i} = :s{i}" for i in range(len(outcomes))),
                ConditionExpression=Attr("PK").exists(),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return None  # an issuance we did not record (e.g. written by an older version)
            raise
        item = response["Attributes"]
        noted: dict[str, str] = {str(k): str(v) for k, v in item.get("outcomes", {}).items()}
        if len(noted) < int(item["total"]) or item.get("summary_sent"):
            return None
        return IssuanceSummaryDetail.from_outcomes(
            issuance_id, str(item["certificate_id"]), int(item["version"]), noted
        )
