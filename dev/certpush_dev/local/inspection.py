"""Looks for what each SUCCEEDED record says was pushed (`certpush-dev stack check`).

A target whose module declares ``inspect`` is looked at through its own API (that works on any
stack). The others can only be looked at in their emulator: the Huawei Cloud simulator publishes
its state, keyed by service and region, so one function serves every Huawei Cloud service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.models.domain import PushRecord, PushStatus
from certpush.providers.definition import Inspection
from certpush.providers.registry import REGISTRY, TargetRegistry
from certpush.settings import Settings


class SimulatorState:
    """The Huawei Cloud simulator's state, fetched once when first needed."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._state: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        if self._state is None:
            self._state = httpx.get(f"{self._url}/_sim/state", timeout=10).json()
        return self._state


def _huaweicloud(record: PushRecord, simulator: SimulatorState) -> Inspection:
    certificates = simulator.get().get(record.service, {}).get(record.region, {}).get("certificates", [])
    ids = {c.get("id") for c in certificates}
    # a CDN target id lists the accelerated domains the certificate is configured on
    present = all(part in ids for part in (record.target_id or "").split(","))
    yield f"{record.target} has {record.target_id} ({len(certificates)} in store)", present


EMULATED: dict[str, Callable[[PushRecord, SimulatorState], Inspection]] = {"huaweicloud": _huaweicloud}
"""Inspection in an emulator, by provider, for targets that declare no ``inspect`` of their own."""


def inspection_of(provider: str, service: str, registry: TargetRegistry = REGISTRY) -> bool:
    """Whether `local check` can look at this target."""
    definition = registry.find(provider, service)
    return definition is not None and (definition.inspect is not None or provider in EMULATED)


def inspect_pushes(settings: Settings, certificate_id: str, huaweicloud_url: str) -> Iterator[tuple[str, bool]]:
    records = DynamoDBRecordsRepository(settings.records_table).list_current(certificate_id)
    simulator = SimulatorState(huaweicloud_url)
    for record in sorted(records, key=lambda r: (r.provider, r.service, r.region)):
        if record.status is not PushStatus.SUCCEEDED:
            continue
        definition = REGISTRY.find(record.provider, record.service)
        if definition is not None and definition.inspect is not None:
            yield from definition.inspect(record)
        elif record.provider in EMULATED:
            yield from EMULATED[record.provider](record, simulator)
        else:
            yield f"{record.target}: certpush cannot look at this target", False
