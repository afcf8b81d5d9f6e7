"""What `certpush-dev stack check` sees of a Huawei Cloud push: the simulator publishes its state
(``/_sim/state``), keyed by service and region, so one function serves every Huawei Cloud service (the
real cloud's targets declare no ``inspect`` of their own). ``certpush_emulators.inspection`` finds it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from certpush.models.domain import PushRecord
    from certpush.providers.definition import Inspection

PROVIDER = "huaweicloud"


def fetch_state(url: str) -> dict[str, Any]:
    """The simulator's state, once per check."""
    import httpx

    state: dict[str, Any] = httpx.get(f"{url}/_sim/state", timeout=10).json()
    return state


def inspect(record: PushRecord, state: dict[str, Any]) -> Inspection:
    certificates = state.get(record.service, {}).get(record.region, {}).get("certificates", [])
    ids = {c.get("id") for c in certificates}
    # a CDN target id lists the accelerated domains the certificate is configured on
    present = all(part in ids for part in (record.target_id or "").split(","))
    yield f"{record.target} has {record.target_id} ({len(certificates)} in store)", present
