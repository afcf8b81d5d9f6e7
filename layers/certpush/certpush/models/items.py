"""Records table items and their mapping to domain models.

One table, keys designed for the questions certpush and its dashboards ask:

- current push:  PK ``CERT#{id}``, SK ``PUSH#v{version:06}#{provider}#{service}#{region}``;
  GSI1 (ByStatus) ``STATUS#{status}`` / ``{updated}#...``; GSI2 (ByTarget) ``TARGET#{provider}#{service}#{region}``
  / ``{updated}#...``.
- push history:  PK ``CERT#{id}``, SK ``HIST#{finished_at}#{push_id}``;
  GSI3 (ByDay) ``DAY#{date}`` / ``{finished_at}#...``.
- binding:       PK ``CERT#{id}``, SK ``BIND#{provider}#{service}#{region}`` -> ``target_id`` (id of the
  certificate in that target) and ``version`` (the version it holds), and the lease of the push changing
  it (``lease_token``, ``lease_until``).
- issuance:      PK ``ISSUANCE#{id}``, SK ``ISSUANCE`` -> targets and the final status of each.

- the latest 10 push records of a certificate: Query PK=CERT#{id}, SK begins_with HIST#, descending, Limit 10;
- FAILED pushes for replay: Query GSI1 STATUS#FAILED (newest first);
- a service in a region: Query GSI2 TARGET#aws#elb#us-east-1; what happened on a day: Query GSI3 DAY#2026-11-27.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from certpush.models.domain import Binding, PushRecord, PushStatus, TargetKey

ITEM_PUSH = "PUSH"
ITEM_HISTORY = "HIST"
ITEM_BINDING = "BIND"
ITEM_ISSUANCE = "ISSUANCE"

_RECORD_FIELDS = tuple(PushRecord.model_fields)


def timestamp(value: datetime) -> str:
    """Fixed-width UTC timestamp: sorts as text in the order of time."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# -- the keys: every key of the records table is built here (the adapters query with these) --------------
PUSH_PREFIX = f"{ITEM_PUSH}#"  # SK of current records
HISTORY_PREFIX = f"{ITEM_HISTORY}#"  # SK of history items


def cert_pk(certificate_id: str) -> str:
    return f"CERT#{certificate_id}"


def push_sk(version: int, target: TargetKey) -> str:
    return f"{PUSH_PREFIX}v{version:06d}#{target.provider}#{target.service}#{target.region}"


def binding_sk(target: TargetKey) -> str:
    return f"{ITEM_BINDING}#{target.provider}#{target.service}#{target.region}"


def issuance_pk(issuance_id: str) -> str:
    return f"ISSUANCE#{issuance_id}"


def status_partition(status: PushStatus | str) -> str:
    """GSI1PK (ByStatus)."""
    return f"STATUS#{status.value if isinstance(status, PushStatus) else status}"


def target_partition(provider: str, service: str, region: str) -> str:
    """GSI2PK (ByTarget)."""
    return f"TARGET#{provider}#{service}#{region}"


def day_partition(day: object) -> str:
    """GSI3PK (ByDay) of a date (``YYYY-MM-DD``)."""
    return f"DAY#{day}"


def _record_attributes(record: PushRecord) -> dict[str, Any]:
    data = record.model_dump(mode="json", exclude_none=True)
    data["created_at"] = timestamp(record.created_at)
    data["updated_at"] = timestamp(record.updated_at)
    return data


def index_keys(
    certificate_id: str, version: int, target: TargetKey, status: PushStatus, updated: str
) -> dict[str, str]:
    """The ByStatus and ByTarget keys of a current record (``updated``: its ``timestamp``)."""
    return {
        "GSI1PK": status_partition(status),
        "GSI1SK": f"{updated}#{certificate_id}#{version}#{target}",
        "GSI2PK": target_partition(target.provider, target.service, target.region),
        "GSI2SK": f"{updated}#{certificate_id}#{version}",
    }


def current_item(record: PushRecord) -> dict[str, Any]:
    """The record as its current-state item (without a lease: a claim sets that with an update)."""
    target = record.target
    return {
        "PK": cert_pk(record.certificate_id),
        "SK": push_sk(record.version, target),
        "type": ITEM_PUSH,
        **index_keys(record.certificate_id, record.version, target, record.status, timestamp(record.updated_at)),
        **_record_attributes(record),
    }


def history_item(record: PushRecord) -> dict[str, Any]:
    finished = timestamp(record.updated_at)
    return {
        "PK": cert_pk(record.certificate_id),
        "SK": f"{HISTORY_PREFIX}{finished}#{record.push_id}",
        "type": ITEM_HISTORY,
        "GSI3PK": day_partition(finished[:10]),
        "GSI3SK": f"{finished}#{record.certificate_id}#{record.version}#{record.target}",
        **_record_attributes(record),
    }


def binding_from_item(item: dict[str, Any]) -> Binding:
    return Binding(
        target_id=str(item["target_id"]) if item.get("target_id") else None,
        version=int(item["version"]) if item.get("version") is not None else None,
        lease_token=str(item["lease_token"]) if item.get("lease_token") else None,
        lease_until=parse_timestamp(str(item["lease_until"])) if item.get("lease_until") else None,
        settle_until=parse_timestamp(str(item["settle_until"])) if item.get("settle_until") else None,
    )


def record_from_item(item: dict[str, Any]) -> PushRecord:
    data = {key: item[key] for key in _RECORD_FIELDS if key in item}
    data["created_at"] = parse_timestamp(str(item["created_at"]))
    data["updated_at"] = parse_timestamp(str(item["updated_at"]))
    data["version"] = int(item["version"])
    data["attempts"] = int(item.get("attempts", 0))
    data["sweeps"] = int(item.get("sweeps", 0))
    if "duration_ms" in item:
        data["duration_ms"] = int(item["duration_ms"])
    if item.get("lease_until"):
        data["lease_until"] = parse_timestamp(str(item["lease_until"]))
    if item.get("settle_until"):
        data["settle_until"] = parse_timestamp(str(item["settle_until"]))
    if item.get("replaced_by") is not None:
        data["replaced_by"] = int(item["replaced_by"])
    data["status"] = PushStatus(item["status"])
    return PushRecord.model_validate(data)
