"""Use cases of the command line around one issuance: push now, replay the FAILED targets of a
version, wait until every target of an issuance is final and gather its records. They speak to
ports only, so they are unit-tested with the fakes; the CLI parses and prints."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from certpush.errors import CertpushError
from certpush.logic.policies import merge_targets
from certpush.logic.sweeper import end_stuck
from certpush.models.domain import IssuanceProgress, PushRecord, PushStatus, TargetKey, TargetOptions, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.ports import Clock, IssuancePublisher, ReplayRecords


class NoPushRecordsError(CertpushError):
    def __init__(self, certificate_id: str) -> None:
        super().__init__(f"no push records for {certificate_id}")
        self.certificate_id = certificate_id


class IssuanceTimeoutError(CertpushError):
    """Not every target of the issuance was final in time; the message says how far it came."""


class UnknownAttachmentError(CertpushError):
    """``replay --drop-attach REF``: no target to replay was attached (or to be attached) to REF."""

    def __init__(self, references: list[str]) -> None:
        super().__init__(
            f"no FAILED or ATTACH_FAILED target of this version names {', '.join(references)}; "
            "see certpush records ID for the references each target has"
        )
        self.references = references


REPLAYED = (PushStatus.FAILED, PushStatus.ATTACH_FAILED)


@dataclass(frozen=True)
class ReplayPlan:
    """The FAILED and ATTACH_FAILED targets of one version, as the targets of a new issuance."""

    certificate_id: str
    version: int
    failed: list[PushRecord]
    targets: list[TargetSpec]


def _without(options: TargetOptions, dropped: set[str]) -> TargetOptions:
    return TargetOptions(
        attach=tuple(ref for ref in options.attach if ref not in dropped),
        attach_default=tuple(ref for ref in options.attach_default if ref not in dropped),
    )


def plan_replay(
    certificate_id: str,
    current: list[PushRecord],
    version: int | None = None,
    drop_attach: Sequence[str] = (),
    only: TargetKey | None = None,
) -> ReplayPlan:
    """The given version (default: the latest that has records) and its targets whose current state
    is FAILED or ATTACH_FAILED, each with the options (attachments) it was pushed with, less the
    references in ``drop_attach`` (attachments the operator removed). An ATTACH_FAILED target's
    certificate is in place: its replay attaches only. ``only``: that one target, if it failed (no
    targets otherwise). Raises UnknownAttachmentError for a dropped reference none of them names."""
    if not current:
        raise NoPushRecordsError(certificate_id)
    chosen = version or max(r.version for r in current)
    failed = [r for r in current if r.version == chosen and r.status in REPLAYED and only in (None, r.target)]
    dropped = set(drop_attach)
    named = {ref for r in failed for ref in (*r.options.attach, *r.options.attach_default)}
    if unknown := sorted(dropped - named):
        raise UnknownAttachmentError(unknown)
    specs = [
        TargetSpec(provider=r.provider, service=r.service, regions=[r.region], options=_without(r.options, dropped))
        for r in failed
    ]
    return ReplayPlan(certificate_id=certificate_id, version=chosen, failed=failed, targets=merge_targets(specs))


@dataclass
class Issuances:
    records: ReplayRecords
    publisher: IssuancePublisher
    clock: Clock
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def push(
        self,
        certificate_id: str,
        targets: list[TargetSpec],
        version: int | None = None,
        *,
        force: bool = False,
        rollback: bool = False,
    ) -> str:
        """Emits "Certificate Issued" with these targets; returns the issuance id. ``force``: push again
        where the version is recorded as present. ``rollback``: the version may replace a newer one."""
        issuance_id = self.new_id()
        self.publisher.certificate_issued(
            CertificateIssuedDetail(
                certificate_id=certificate_id,
                version=version,
                targets=targets,
                issuance_id=issuance_id,
                force=force,
                rollback=rollback,
            )
        )
        return issuance_id

    def replay(
        self,
        certificate_id: str,
        version: int | None = None,
        stuck_since: datetime | None = None,
        drop_attach: Sequence[str] = (),
        only: TargetKey | None = None,
    ) -> tuple[ReplayPlan, str | None]:
        """Pushes every FAILED or ATTACH_FAILED target of the version again (an ATTACH_FAILED one only
        attaches: its certificate is there): (the plan, the new issuance id or None when nothing
        failed). ``drop_attach``: references to attach no more; ``only``: that target alone. With
        ``stuck_since``, a push still PENDING / IN_PROGRESS and untouched since then is ended FAILED
        (STUCK) first and pushed again with the others."""
        current = self.records.list_current(certificate_id)
        if stuck_since is not None:
            for record in current:
                if not record.status.is_final and record.updated_at < stuck_since:
                    end_stuck(self.records, record, self.clock.now(), "ended by certpush replay")
            current = self.records.list_current(certificate_id)
        plan = plan_replay(certificate_id, current, version, drop_attach, only)
        if not plan.targets:
            return plan, None
        issuance_id = self.new_id()
        self.publisher.certificate_issued(
            CertificateIssuedDetail(
                certificate_id=certificate_id,
                version=plan.version,
                targets=plan.targets,
                issuance_id=issuance_id,
                replay=True,
                # a rollback that failed is replayed as one (the operator asked to move these targets back)
                rollback=all(r.rollback for r in plan.failed),
            )
        )
        return plan, issuance_id

    def wait(
        self,
        issuance_id: str,
        timeout: float,
        on_progress: Callable[[IssuanceProgress], None] = lambda progress: None,
        interval: float = 0.25,
    ) -> IssuanceProgress:
        """Polls the issuance's state until every target is final. Raises IssuanceTimeoutError."""
        deadline = self.monotonic() + timeout
        while True:
            progress = self.records.get_issuance(issuance_id)
            if progress is not None:
                on_progress(progress)
                if progress.done:
                    return progress
            if self.monotonic() > deadline:
                state = (
                    "no record of it yet (is the validator running?)"
                    if progress is None
                    else f"{len(progress.outcomes)}/{len(progress.targets)} targets final"
                )
                raise IssuanceTimeoutError(
                    f"timed out after {timeout:.0f}s waiting for issuance {issuance_id}: {state}"
                )
            self.sleep(interval)

    def records_of(self, progress: IssuanceProgress) -> list[PushRecord]:
        """The record of each target as this issuance left it (a rejected repeat lives in the history),
        newest version first, then by provider, service and region."""
        history = [
            r for r in self.records.history(progress.certificate_id, limit=100) if r.issuance_id == progress.issuance_id
        ]
        found: list[PushRecord] = []
        for target in progress.targets:
            provider, service, region = target.split(":", 2)
            key = TargetKey(provider=provider, service=service, region=region)
            current = self.records.get(progress.certificate_id, progress.version, key)
            if current is not None and current.issuance_id == progress.issuance_id:
                found.append(current)
                continue
            mine = next((r for r in history if r.target == key), None)
            if mine is not None:
                found.append(mine)
        return sorted(found, key=lambda r: (-r.version, r.provider, r.service, r.region))
