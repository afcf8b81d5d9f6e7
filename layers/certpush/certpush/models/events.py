"""Events: the inbound "Certificate Issued" event and the events certpush emits.

Every emitted event has a contract test (tests/unit/test_event_contracts.py) and a JSON Schema in
events/ generated from these models (``certpush schemas``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, Field

from certpush.models.domain import CERTIFICATE_ID_RULE, CertificateId, TargetSpec

EVENT_SOURCE = "certpush.certificates"
NOTIFY_SOURCE = "certpush.pushes"
DETAIL_TYPE_ISSUED = "Certificate Issued"
DETAIL_TYPE_PUSHED = "Certificate Pushed"
DETAIL_TYPE_SUMMARY = "Certificate Push Summary"


class CertificateIssuedDetail(BaseModel):
    """detail of a ``Certificate Issued`` event.

    Without ``targets``, the push policies whose domain pattern matches the certificate decide.
    ``issuance_id`` defaults to the EventBridge event id, so a redelivered event is one issuance."""

    certificate_id: CertificateId = Field(description=f"certificate id: {CERTIFICATE_ID_RULE}")
    version: int | None = Field(default=None, ge=1, description="latest version when omitted")
    targets: list[TargetSpec] | None = None
    issuance_id: str | None = Field(default=None, max_length=128)
    replay: bool = Field(
        default=False,
        description="informational: sent by `certpush replay` for the FAILED targets of a version; validated "
        "like any other issuance",
    )
    force: bool = Field(
        default=False, description="push again where this version is recorded as present (e.g. deleted in a console)"
    )
    rollback: bool = Field(
        default=False,
        description="allow this version to replace a newer one in the targets (without it an older version "
        "ends SUPERSEDED where a newer one is); recorded on each push",
    )


class CertificateIssuedEvent(EventBridgeModel):
    """The only event the validator takes: any other source or detail-type is logged and ignored."""

    source: Literal["certpush.certificates"]
    detail_type: Literal["Certificate Issued"] = Field(alias="detail-type")
    detail: CertificateIssuedDetail


# fields whose mismatch means "an event that is not ours" rather than "a malformed event of ours"
ENVELOPE_FIELDS = ("source", "detail-type")


class CertificatePushedDetail(BaseModel):
    """A push reached SUCCEEDED: where to configure the certificate now."""

    certificate_id: str
    version: int
    provider: str
    service: str
    region: str
    target_id: str
    console_url: str
    issuance_id: str
    push_id: str = Field(description="same for every delivery of one push: use it to drop duplicates")
    pushed_at: datetime


class SummaryCounts(BaseModel):
    succeeded: int = 0
    failed: int = 0
    rejected: int = 0
    already_pushed: int = Field(default=0, description="of the rejected: this version was already in the target")
    superseded: int = Field(default=0, description="the target holds a newer version: nothing to do")
    attach_failed: int = Field(default=0, description="the certificate is in the target, attaching it failed")


class IssuanceSummaryDetail(BaseModel):
    """Every target of one issuance is final."""

    issuance_id: str
    certificate_id: str
    version: int
    total: int
    counts: SummaryCounts
    outcome: Literal["SUCCEEDED", "PARTIAL", "FAILED"] = Field(
        description="SUCCEEDED: the version is now in every target (pushed now or ALREADY_PUSHED before), or "
        "a newer one is (SUPERSEDED)"
    )
    targets: dict[str, str] = Field(description="provider:service:region -> final status, or ALREADY_PUSHED")

    @classmethod
    def from_outcomes(
        cls, issuance_id: str, certificate_id: str, version: int, outcomes: dict[str, str]
    ) -> IssuanceSummaryDetail:
        values = list(outcomes.values())
        already = values.count("ALREADY_PUSHED")
        counts = SummaryCounts(
            succeeded=values.count("SUCCEEDED"),
            failed=values.count("FAILED"),
            rejected=values.count("REJECTED") + already,
            already_pushed=already,
            superseded=values.count("SUPERSEDED"),
            attach_failed=values.count("ATTACH_FAILED"),
        )
        in_place = counts.succeeded + already + counts.superseded
        outcome: Literal["SUCCEEDED", "PARTIAL", "FAILED"] = (
            "SUCCEEDED" if in_place == len(values) else "FAILED" if in_place == 0 else "PARTIAL"
        )
        return cls(
            issuance_id=issuance_id,
            certificate_id=certificate_id,
            version=version,
            total=len(values),
            counts=counts,
            outcome=outcome,
            targets=dict(sorted(outcomes.items())),
        )


DETAIL_TYPE_EXPIRING = "Certificate Expiring"


class ServingTarget(BaseModel):
    provider: str
    service: str
    region: str
    target_id: str | None = None
    console_url: str | None = Field(default=None, description="where to put a renewed certificate in place")


class CertificateExpiringDetail(BaseModel):
    """A pushed certificate version expires within the warning threshold and targets still serve it
    (no newer version of the certificate SUCCEEDED in them)."""

    certificate_id: str
    version: int
    common_name: str
    not_after: datetime
    days_left: int = Field(description="whole days until not_after; negative once expired")
    targets: list[ServingTarget] = Field(min_length=1)
