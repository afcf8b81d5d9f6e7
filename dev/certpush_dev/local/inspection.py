"""Looks for what each SUCCEEDED record says was pushed (`certpush-dev stack check`).

A target whose module declares ``inspect`` is looked at through its own API (that works on any
stack). The others can only be looked at in their emulator: each emulator package that can says how
in its ``inspection`` module (``certpush_emulators.huaweicloud.inspection``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.models.domain import PushStatus
from certpush.providers.registry import REGISTRY, TargetRegistry
from certpush.settings import Settings
from certpush_emulators.packages import declared


def _emulated() -> dict[str, ModuleType]:
    """Inspection in an emulator, by provider, for targets that declare no ``inspect`` of their own:
    each emulator package's ``inspection`` module (``PROVIDER``, ``fetch_state``, ``inspect``)."""
    return {module.PROVIDER: module for module in declared("inspection")}


def inspection_of(provider: str, service: str, registry: TargetRegistry = REGISTRY) -> bool:
    """Whether `local check` can look at this target."""
    definition = registry.find(provider, service)
    return definition is not None and (definition.inspect is not None or provider in _emulated())


def inspect_pushes(
    settings: Settings, certificate_id: str, emulator_url: Callable[[str], str | None]
) -> Iterator[tuple[str, bool]]:
    """``emulator_url(provider)``: where the running stack's emulator of that provider listens."""
    records = DynamoDBRecordsRepository(settings.records_table).list_current(certificate_id)
    emulated = _emulated()
    states: dict[str, Any] = {}
    for record in sorted(records, key=lambda r: (r.provider, r.service, r.region)):
        if record.status is not PushStatus.SUCCEEDED:
            continue
        definition = REGISTRY.find(record.provider, record.service)
        url = emulator_url(record.provider)
        if definition is not None and definition.inspect is not None:
            yield from definition.inspect(record)
        elif record.provider in emulated and url:
            emulator = emulated[record.provider]
            if record.provider not in states:
                states[record.provider] = emulator.fetch_state(url)
            yield from emulator.inspect(record, states[record.provider])
        else:
            yield f"{record.target}: certpush cannot look at this target", False
