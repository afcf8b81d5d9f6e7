"""Retract: delete from a target what certpush pushed there, when nothing uses it any more.

For each target the live records of the certificate (SUCCEEDED, ATTACH_FAILED) are the candidates: one version
(``version``), the versions older than the newest one deployed (``superseded``), or all of them.
Records that name the same certificate in the target (renewed in place) are one certificate: it is
deleted once, and every record that names it becomes RETRACTED. A certificate renewed in place by the
newest version is that version's and is never "superseded". A certificate something still uses
(a listener, a protected domain) is left alone, and the outcome names what uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools import Logger

from certpush.errors import PushError
from certpush.models.domain import PushRecord, TargetKey
from certpush.ports import Clock, PushTarget, RecordUpkeep

logger = Logger(child=True)


class RetractStatus(StrEnum):
    RETRACTED = "RETRACTED"
    IN_USE = "IN_USE"  # refused: something uses the certificate
    NOTHING = "NOTHING"  # no live push (SUCCEEDED, ATTACH_FAILED) to retract there
    FAILED = "FAILED"  # the target answered an error
    UNKNOWN_TARGET = "UNKNOWN_TARGET"


@dataclass(frozen=True)
class RetractOutcome:
    target: TargetKey
    status: RetractStatus
    versions: tuple[int, ...] = ()
    target_id: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (RetractStatus.RETRACTED, RetractStatus.NOTHING)


@dataclass
class Retractor:
    records: RecordUpkeep
    targets: Mapping[tuple[str, str], PushTarget]
    clock: Clock

    def retract(
        self,
        certificate_id: str,
        keys: Iterable[TargetKey],
        *,
        version: int | None = None,
        superseded: bool = False,
    ) -> list[RetractOutcome]:
        current = self.records.list_current(certificate_id)
        outcomes: list[RetractOutcome] = []
        for key in dict.fromkeys(keys):
            target = self.targets.get((key.provider, key.service))
            if target is None:
                outcomes.append(RetractOutcome(key, RetractStatus.UNKNOWN_TARGET, message=f"no adapter for {key}"))
                continue
            deployed = [r for r in current if r.target == key and r.status.is_live and r.target_id]
            chosen = self._chosen(deployed, version, superseded)
            if not chosen:
                what = f"version {version}" if version else ("superseded versions" if superseded else "version")
                outcomes.append(
                    RetractOutcome(key, RetractStatus.NOTHING, message=f"no {what} of {certificate_id} in {key}")
                )
                continue
            for target_id, records in _by_target_id(chosen, deployed):
                outcomes.append(self._retract_one(target, key, target_id, records))
        return outcomes

    @staticmethod
    def _chosen(deployed: list[PushRecord], version: int | None, superseded: bool) -> list[PushRecord]:
        if version is not None:
            return [r for r in deployed if r.version == version]
        if superseded:
            if not deployed:
                return []
            newest = max(deployed, key=lambda r: r.version)
            return [r for r in deployed if r.version < newest.version and r.target_id != newest.target_id]
        return deployed

    def _retract_one(
        self, target: PushTarget, key: TargetKey, target_id: str, records: list[PushRecord]
    ) -> RetractOutcome:
        versions = tuple(sorted(r.version for r in records))
        try:
            attached = [ref for r in records for ref in (*r.options.attach, *r.options.attach_default)]
            users = target.in_use(key.region, target_id, tuple(dict.fromkeys(attached)))
            if users:
                return RetractOutcome(
                    key, RetractStatus.IN_USE, versions, target_id, f"{target_id} is still used by {', '.join(users)}"
                )
            done = target.retract(key.region, target_id)
        except PushError as exc:
            return RetractOutcome(key, RetractStatus.FAILED, versions, target_id, f"{exc.code}: {exc.message}")
        now = self.clock.now()
        what = done or f"deleted {target_id}"
        for record in records:
            self.records.record_retraction(
                record.model_copy(update={"updated_at": now, "message": f"retracted: {what}", "reason": None})
            )
        logger.info("retracted", extra={"target": str(key), "target_id": target_id, "versions": list(versions)})
        return RetractOutcome(key, RetractStatus.RETRACTED, versions, target_id, what)


def _by_target_id(chosen: list[PushRecord], deployed: list[PushRecord]) -> list[tuple[str, list[PushRecord]]]:
    """Each certificate to delete once, with every deployed record that names it."""
    ids = dict.fromkeys(str(r.target_id) for r in chosen)
    return [(target_id, [r for r in deployed if r.target_id == target_id]) for target_id in ids]
