"""Records repository on DynamoDB (see certpush.models.items for the key design)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from certpush.adapters.aws_clients import aws_resource
from certpush.adapters.aws_errors import aws_errors
from certpush.adapters.concurrency import run_concurrently
from certpush.adapters.dynamodb_batch import batch_get
from certpush.errors import PushInProgressError, RecordsInUseError, StalePushError
from certpush.logic.record_rules import (
    ACTIVE,
    LIVE,
    REPLACEABLE,
    REPLACED_BY,
    check_claimable,
    forget_refusal,
    moves_binding,
    status_values,
)
from certpush.models.domain import (
    HISTORY_LENGTH,
    Binding,
    Issuance,
    IssuanceProgress,
    PushRecord,
    PushState,
    PushStatus,
    TargetKey,
)
from certpush.models.events import IssuanceSummaryDetail
from certpush.models.items import (
    HISTORY_PREFIX,
    ITEM_BINDING,
    ITEM_ISSUANCE,
    PUSH_PREFIX,
    binding_from_item,
    binding_sk,
    cert_pk,
    current_item,
    history_item,
    index_keys,
    issuance_pk,
    push_sk,
    record_from_item,
    status_partition,
    timestamp,
)

# the rules are certpush.logic.record_rules (shared with the host and the fake), stated as conditions here
_PENDING, _IN_PROGRESS = PushStatus.PENDING.value, PushStatus.IN_PROGRESS.value
_LIVE = status_values(LIVE)
_REPLACEABLE = status_values(REPLACEABLE)
# a settle wait ("not before") has ended at :u (record_rules.settle_runs)
_SETTLED = "(attribute_not_exists(settle_until) OR settle_until <= :u)"
_CLAIM_TRIES = 3


def _condition_failed(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
    return False


def _cancellation_codes(exc: ClientError) -> list[str]:
    """The reason of each item of a cancelled transaction ("None" for those that passed)."""
    return [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons") or []]


def _written(write: Callable[..., Any], **arguments: Any) -> bool:
    """Runs a conditional write: False when its condition did not hold (then nothing was written)."""
    try:
        write(**arguments)
    except ClientError as exc:
        if _condition_failed(exc):
            return False
        raise
    return True


def _refused(exc: ClientError) -> bool:
    if _condition_failed(exc):
        return False
    raise exc


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
                KeyConditionExpression=Key("PK").eq(cert_pk(certificate_id)) & Key("SK").begins_with(PUSH_PREFIX),
                ConsistentRead=True,
            )
        ]

    @aws_errors("records: history")
    def history(self, certificate_id: str, limit: int = HISTORY_LENGTH) -> list[PushRecord]:
        key = Key("PK").eq(cert_pk(certificate_id)) & Key("SK").begins_with(HISTORY_PREFIX)
        return self._newest_first(key, limit)

    @aws_errors("records: by_status")
    def by_status(self, status: PushStatus, limit: int = 100) -> list[PushRecord]:
        return self._newest_first(Key("GSI1PK").eq(status_partition(status)), limit, index="ByStatus")

    def _newest_first(self, key: Any, limit: int, index: str | None = None) -> list[PushRecord]:
        """One Query, descending by sort key (every sort key here starts with a timestamp)."""
        arguments: dict[str, Any] = {"KeyConditionExpression": key, "ScanIndexForward": False, "Limit": limit}
        if index:
            arguments["IndexName"] = index
        return [record_from_item(item) for item in self._table.query(**arguments).get("Items", [])]

    @aws_errors("records: binding")
    def binding(self, certificate_id: str, target: TargetKey) -> Binding | None:
        response = self._table.get_item(
            Key={"PK": cert_pk(certificate_id), "SK": binding_sk(target)}, ConsistentRead=True
        )
        item = response.get("Item")
        return binding_from_item(item) if item else None

    @aws_errors("records: push_states")
    def push_states(self, pushes: Sequence[tuple[str, int, TargetKey]]) -> dict[tuple[str, int, TargetKey], PushState]:
        """Records and bindings of a batch of pushes in one BatchGetItem (100 keys per request)."""
        keys: list[tuple[str, str]] = []
        for certificate_id, version, target in pushes:
            keys += [(cert_pk(certificate_id), push_sk(version, target)), (cert_pk(certificate_id), binding_sk(target))]
        found = {
            (str(i["PK"]), str(i["SK"])): i for i in batch_get(self._client, self._table_name, keys, consistent=True)
        }
        states: dict[tuple[str, int, TargetKey], PushState] = {}
        for certificate_id, version, target in pushes:
            record = found.get((cert_pk(certificate_id), push_sk(version, target)))
            binding = found.get((cert_pk(certificate_id), binding_sk(target)))
            states[(certificate_id, version, target)] = PushState(
                record=record_from_item(record) if record else None,
                binding=binding_from_item(binding) if binding else None,
            )
        return states

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

    # -- the lease of a push: claim, heartbeat, give back -------------------------------------------
    def _record_key(self, record: PushRecord) -> dict[str, str]:
        return {"PK": cert_pk(record.certificate_id), "SK": push_sk(record.version, record.target)}

    def _binding_key(self, record: PushRecord) -> dict[str, str]:
        return {"PK": cert_pk(record.certificate_id), "SK": binding_sk(record.target)}

    @aws_errors("records: claim")
    def claim(self, state: PushState, now: datetime, lease_seconds: int) -> PushState:
        """One TransactWriteItems of two conditional updates (record and binding); see the port. A
        cancelled claim reads both again (one BatchGetItem) to say why, or tries again on what it read."""
        if state.record is None:
            raise StalePushError("?")
        push_id = state.record.push_id
        for _ in range(_CLAIM_TRIES):
            record = check_claimable(state, push_id, now)
            token = str(uuid.uuid4())
            until = now + timedelta(seconds=lease_seconds)
            try:
                self._client.transact_write_items(TransactItems=self._claim_items(state, record, token, now, until))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                if "TransactionConflict" in _cancellation_codes(exc):
                    raise PushInProgressError(record.push_id) from exc  # another write to it at this moment
                state = self.push_states([(record.certificate_id, record.version, record.target)])[
                    (record.certificate_id, record.version, record.target)
                ]
                continue
            claimed = record.model_copy(
                update={
                    "status": PushStatus.IN_PROGRESS,
                    "attempts": record.attempts + 1,
                    "updated_at": now,
                    "lease_token": token,
                    "lease_until": until,
                    "settle_until": None,
                }
            )
            binding = (state.binding or Binding()).model_copy(
                update={"lease_token": token, "lease_until": until, "settle_until": None}
            )
            return PushState(record=claimed, binding=binding)
        raise PushInProgressError(push_id)  # it kept changing under us: come back later

    def _claim_items(
        self, state: PushState, record: PushRecord, token: str, now: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        updated = timestamp(now)
        keys = index_keys(record.certificate_id, record.version, record.target, PushStatus.IN_PROGRESS, updated)
        seen_version = state.binding.version if state.binding else None
        version_condition = "attribute_not_exists(version)" if seen_version is None else "version = :seen"
        binding_values: dict[str, Any] = {
            ":tok": token,
            ":lease": timestamp(until),
            ":u": updated,
            ":bind": ITEM_BINDING,
        }
        if seen_version is not None:
            binding_values[":seen"] = seen_version
        return [
            {
                "Update": {
                    "TableName": self._table_name,
                    "Key": self._record_key(record),
                    "UpdateExpression": "SET #s = :ip, GSI1PK = :g1, GSI1SK = :g1s, GSI2SK = :g2s, updated_at = :u, "
                    "lease_until = :lease, lease_token = :tok, attempts = :next REMOVE settle_until",
                    "ConditionExpression": "push_id = :pid AND attempts = :attempts AND (#s = :p OR (#s = :ip AND "
                    f"(attribute_not_exists(lease_until) OR lease_until < :u))) AND {_SETTLED}",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":ip": PushStatus.IN_PROGRESS.value,
                        ":p": PushStatus.PENDING.value,
                        ":g1": keys["GSI1PK"],
                        ":g1s": keys["GSI1SK"],
                        ":g2s": keys["GSI2SK"],
                        ":u": updated,
                        ":lease": timestamp(until),
                        ":tok": token,
                        ":next": record.attempts + 1,
                        ":attempts": record.attempts,
                        ":pid": record.push_id,
                    },
                }
            },
            {
                "Update": {
                    "TableName": self._table_name,
                    "Key": self._binding_key(record),
                    "UpdateExpression": "SET lease_token = :tok, lease_until = :lease, #t = :bind REMOVE settle_until",
                    "ConditionExpression": "(attribute_not_exists(lease_until) OR lease_until < :u) AND "
                    f"{_SETTLED} AND {version_condition}",
                    "ExpressionAttributeNames": {"#t": "type"},
                    "ExpressionAttributeValues": binding_values,
                }
            },
        ]

    @aws_errors("records: extend_lease")
    def extend_lease(self, record: PushRecord, until: datetime) -> bool:
        """Both leases at once (a heartbeat), each on the condition that it is still the claim's."""
        lease = {":tok": record.lease_token or "", ":lease": timestamp(until)}
        return _written(
            self._client.transact_write_items,
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table_name,
                        "Key": key,
                        "UpdateExpression": "SET lease_until = :lease",
                        "ConditionExpression": "lease_token = :tok",
                        "ExpressionAttributeValues": lease,
                    }
                }
                for key in (self._record_key(record), self._binding_key(record))
            ],
        )

    @aws_errors("records: note_error")
    def note_error(self, record: PushRecord, *, refund_attempt: bool = False) -> bool:
        """The last transient error (and the upload fact, when the upload was done, and the settle wait
        after an ambiguous error) on the in-progress record, both leases given back: one transaction, on
        the condition that the claim is still ours."""
        values: dict[str, Any] = {
            ":r": record.reason or "",
            ":m": record.message or "",
            ":u": timestamp(record.updated_at),
            ":pid": record.push_id,
            ":ip": PushStatus.IN_PROGRESS.value,
            ":tok": record.lease_token or "",
        }
        update = "SET reason = :r, message = :m, updated_at = :u"
        if refund_attempt:
            update += ", attempts = :refunded"
            values[":refunded"] = max(0, record.attempts - 1)
        if record.target_id and record.upload_action:
            update += ", target_id = :tid, upload_action = :ua"
            values |= {":tid": record.target_id, ":ua": record.upload_action.value}
        if record.settle_until is not None:
            update += ", settle_until = :settle"
            values[":settle"] = timestamp(record.settle_until)
        if record.last_look:
            update += ", last_look = :look"
            values[":look"] = True
        return _written(
            self._client.transact_write_items,
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table_name,
                        "Key": self._record_key(record),
                        "UpdateExpression": update + " REMOVE lease_until, lease_token",
                        "ConditionExpression": "push_id = :pid AND #s = :ip AND lease_token = :tok",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": values,
                    }
                },
                self._give_back(record, record.settle_until),
            ],
        )

    def _give_back(self, record: PushRecord, settle_until: datetime | None = None) -> dict[str, Any]:
        """The binding's lease back (with a settle wait, when given), while it is the claim's (never an
        error when it is already gone)."""
        update, values = "REMOVE lease_until, lease_token", {":tok": record.lease_token or ""}
        if settle_until is not None:
            update = "SET settle_until = :settle " + update
            values[":settle"] = timestamp(settle_until)
        return {
            "Update": {
                "TableName": self._table_name,
                "Key": self._binding_key(record),
                "UpdateExpression": update,
                "ConditionExpression": "attribute_not_exists(lease_token) OR lease_token = :tok",
                "ExpressionAttributeValues": values,
            }
        }

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
    def finish(self, record: PushRecord, *, replacing: int | None = None) -> bool:
        """Final state + history entry (+ binding, + the REPLACED record) in one transaction, once per
        push. False if it was final already or the claim was lost."""
        if record.lease_token:
            condition = "push_id = :pid AND #s = :ip AND lease_token = :tok"
            values: dict[str, Any] = {":pid": record.push_id, ":ip": _IN_PROGRESS, ":tok": record.lease_token}
        else:  # no claim: a push nobody holds (the sweeper, a SUPERSEDED push refused at its claim)
            condition = (
                "push_id = :pid AND (#s = :p OR (#s = :ip AND (attribute_not_exists(lease_until) OR lease_until < :u) "
                f"AND {_SETTLED}))"
            )
            values = {":pid": record.push_id, ":p": _PENDING, ":ip": _IN_PROGRESS, ":u": timestamp(record.updated_at)}
        transaction = self._state_and_history(record, condition, values)
        if record.lease_token:
            transaction.append(self._binding_at_finish(record))
        if record.lease_token and replacing is not None and record.target_id and replacing != record.version:
            transaction.append(self._replaced(record, replacing))
            try:
                self._client.transact_write_items(TransactItems=transaction)
                return True
            except ClientError as exc:
                codes = _cancellation_codes(exc)
                if not _condition_failed(exc) or codes[:-1] != ["None"] * (len(transaction) - 1):
                    return _refused(exc)
                transaction.pop()  # that record changed meanwhile (say a push of it started): leave it
        return _written(self._client.transact_write_items, TransactItems=transaction)

    def _binding_at_finish(self, record: PushRecord) -> dict[str, Any]:
        """A live outcome moves the binding to this version (forward only unless rollback); any outcome
        gives the binding's lease back."""
        if not moves_binding(record):
            return self._give_back(record)
        condition = "(attribute_not_exists(lease_token) OR lease_token = :tok)"
        values: dict[str, Any] = {
            ":tok": record.lease_token or "",
            ":tid": record.target_id,
            ":v": record.version,
            ":u": timestamp(record.updated_at),
            ":bind": ITEM_BINDING,
        }
        if not record.rollback:
            condition += " AND (attribute_not_exists(version) OR version <= :v)"
        return {
            "Update": {
                "TableName": self._table_name,
                "Key": self._binding_key(record),
                "UpdateExpression": "SET target_id = :tid, version = :v, updated_at = :u, #t = :bind "
                "REMOVE lease_until, lease_token, settle_until",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": values,
            }
        }

    def _replaced(self, record: PushRecord, version: int) -> dict[str, Any]:
        """The record of ``version`` in the same target: renewed in place by ``record``, it is REPLACED."""
        updated = timestamp(record.updated_at)
        keys = index_keys(record.certificate_id, version, record.target, PushStatus.REPLACED, updated)
        return {
            "Update": {
                "TableName": self._table_name,
                "Key": {"PK": cert_pk(record.certificate_id), "SK": push_sk(version, record.target)},
                "UpdateExpression": "SET #s = :rep, reason = :reason, message = :m, replaced_by = :by, "
                "updated_at = :u, GSI1PK = :g1, GSI1SK = :g1s, GSI2SK = :g2s",
                "ConditionExpression": "#s IN (:ok, :af) AND target_id = :tid",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":rep": PushStatus.REPLACED.value,
                    ":reason": REPLACED_BY,
                    ":m": f"replaced in place by v{record.version}",
                    ":by": record.version,
                    ":u": updated,
                    ":g1": keys["GSI1PK"],
                    ":g1s": keys["GSI1SK"],
                    ":g2s": keys["GSI2SK"],
                    ":ok": _LIVE[0],
                    ":af": _LIVE[1],
                    ":tid": record.target_id,
                },
            }
        }

    @aws_errors("records: record_retraction")
    def record_retraction(self, record: PushRecord) -> bool:
        retracted = record.model_copy(update={"status": PushStatus.RETRACTED})
        key = {"PK": cert_pk(record.certificate_id), "SK": binding_sk(record.target)}
        binding = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        transaction = self._state_and_history(
            retracted, "push_id = :pid AND #s IN (:ok, :af)", {":pid": record.push_id, ":ok": _LIVE[0], ":af": _LIVE[1]}
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

    @aws_errors("records: forget")
    def forget(self, certificate_id: str, target: TargetKey) -> int:
        """Reads the target's current records (one Query of the certificate's) and binding, refuses
        what ``forget_refusal`` refuses, then deletes the records and the binding in transactions of
        at most 100 conditional deletes (each record as read: same push, same status; the binding
        still naming no certificate and leased by nobody), then the history entries (BatchWriteItem)."""
        pk = cert_pk(certificate_id)
        items = self._query(
            KeyConditionExpression=Key("PK").eq(pk) & Key("SK").begins_with(PUSH_PREFIX), ConsistentRead=True
        )
        current = [r for r in map(record_from_item, items) if r.target == target]
        binding = self.binding(certificate_id, target)
        now = datetime.now(UTC)
        if (why := forget_refusal(current, binding, now)) is not None:
            raise RecordsInUseError(str(target), why)
        deletes: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table_name,
                    "Key": {"PK": pk, "SK": push_sk(r.version, target)},
                    "ConditionExpression": "push_id = :pid AND #s = :s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":pid": r.push_id, ":s": r.status.value},
                }
            }
            for r in current
        ]
        if binding is not None:
            deletes.append(
                {
                    "Delete": {
                        "TableName": self._table_name,
                        "Key": {"PK": pk, "SK": binding_sk(target)},
                        "ConditionExpression": "attribute_not_exists(target_id) AND "
                        "(attribute_not_exists(lease_until) OR lease_until < :now)",
                        "ExpressionAttributeValues": {":now": timestamp(now)},
                    }
                }
            )
        for start in range(0, len(deletes), 100):
            if not _written(self._client.transact_write_items, TransactItems=deletes[start : start + 100]):
                raise RecordsInUseError(str(target), "its records changed meanwhile (a push started?); try again")
        history = self._query(
            KeyConditionExpression=Key("PK").eq(pk) & Key("SK").begins_with(HISTORY_PREFIX),
            FilterExpression=Attr("provider").eq(target.provider)
            & Attr("service").eq(target.service)
            & Attr("region").eq(target.region),
            ProjectionExpression="PK, SK",
        )
        with self._table.batch_writer() as batch:
            for item in history:
                batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
        return len(current)

    # -- the sweeper -----------------------------------------------------------------------------
    @aws_errors("records: in_flight_since")
    def in_flight_since(self, cutoff: datetime) -> list[PushRecord]:
        """ByStatus sort keys start with the time of the last status change: one range per status."""
        found: list[PushRecord] = []
        for status in status_values(ACTIVE):
            key = Key("GSI1PK").eq(status_partition(status)) & Key("GSI1SK").lt(timestamp(cutoff))
            found += [record_from_item(i) for i in self._query(IndexName="ByStatus", KeyConditionExpression=key)]
        # the index is eventually consistent and a transient error touches only updated_at: re-read
        current = [self.get(r.certificate_id, r.version, r.target) for r in found]
        return [r for r in current if r is not None and r.status in ACTIVE and r.updated_at < cutoff]

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
