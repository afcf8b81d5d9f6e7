"""Replay: push again every target whose current record of a certificate version is FAILED.

One new issuance (``replay: true``) with those targets and their options; the validator's
conditional write makes sure a target that meanwhile succeeded is not pushed twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from certpush.logic.policies import merge_targets
from certpush.models.domain import PushRecord, PushStatus, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.ports import IssuancePublisher


@dataclass(frozen=True)
class ReplayPlan:
    certificate_id: str
    version: int
    failed: list[PushRecord] = field(default_factory=list)
    issuance_id: str | None = None


def replay_failed(
    certificate_id: str,
    current: list[PushRecord],
    publisher: IssuancePublisher,
    version: int | None = None,
) -> ReplayPlan | None:
    """``current``: the certificate's current records. None when it has none (of that version).
    Emits one "Certificate Issued" for the FAILED targets, if any."""
    if version is not None:
        current = [r for r in current if r.version == version]
    if not current:
        return None
    chosen = version or max(r.version for r in current)
    failed = [r for r in current if r.version == chosen and r.status is PushStatus.FAILED]
    if not failed:
        return ReplayPlan(certificate_id, chosen)
    specs = merge_targets(
        TargetSpec(provider=r.provider, service=r.service, regions=[r.region], options=r.options) for r in failed
    )
    issuance_id = str(uuid.uuid4())
    publisher.certificate_issued(
        CertificateIssuedDetail(
            certificate_id=certificate_id, version=chosen, targets=specs, issuance_id=issuance_id, replay=True
        )
    )
    return ReplayPlan(certificate_id, chosen, failed, issuance_id)
