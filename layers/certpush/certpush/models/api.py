"""Records API: what the dashboard and its clients read (functions/records_api, docs/openapi.json).

Explicit models, mapped from the domain here: the API's shape does not follow the table's."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from certpush.models.domain import CertificateVersion, PushRecord, PushStatus, UploadAction


class ApiError(BaseModel):
    """The body of every 4xx answer but 422 (Powertools' error shape)."""

    statusCode: int  # the name Powertools' error bodies use
    message: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """422: the request does not match the documented parameters."""

    statusCode: int = 422
    detail: list[ValidationIssue]


class PushRecordView(BaseModel):
    """One push of one certificate version to one service in one region."""

    certificate_id: str
    version: int
    provider: str
    service: str
    region: str
    status: PushStatus
    reason: str | None = Field(
        default=None,
        description="REJECTED: the validator's reason; FAILED, ATTACH_FAILED: the error code; SUPERSEDED: "
        "NEWER_VERSION; REPLACED: REPLACED_BY",
    )
    message: str | None = None
    hint: str | None = Field(
        default=None, description="FAILED, ATTACH_FAILED, REJECTED: what to do about the reason, when certpush knows"
    )
    target_id: str | None = Field(default=None, description="id of the certificate in the target")
    upload_action: UploadAction | None = Field(
        default=None, description="how the certificate got into the target: CREATED, RENEWED_IN_PLACE or REUSED"
    )
    attached: list[str] = Field(default_factory=list, description="the references it was attached to")
    replaced_by: int | None = Field(default=None, description="REPLACED: the version renewed in place over it")
    rollback: bool = Field(default=False, description="pushed with --rollback (may replace a newer version)")
    console_url: str | None = Field(default=None, description='"Configure Now": the target\'s console')
    attempts: int
    duration_ms: int | None = None
    issuance_id: str
    push_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: PushRecord) -> PushRecordView:
        return cls.model_validate(record.model_dump(exclude={"options"}))


class StatusCounts(BaseModel):
    PENDING: int = 0
    IN_PROGRESS: int = 0
    SUCCEEDED: int = 0
    FAILED: int = 0
    REJECTED: int = 0
    RETRACTED: int = 0
    SUPERSEDED: int = 0
    REPLACED: int = 0
    ATTACH_FAILED: int = 0

    @classmethod
    def of(cls, statuses: list[PushStatus]) -> StatusCounts:
        return cls(**{status.value: statuses.count(status) for status in PushStatus})


class Expiry(BaseModel):
    not_after: datetime
    days_left: int
    expiring: bool = Field(description="fewer days left than the stack's warning threshold (or expired)")


class CertificateSummary(BaseModel):
    certificate_id: str
    version: int = Field(description="latest version in the inventory")
    common_name: str
    sans: list[str]
    status: str = Field(description="HOSTED, REVOKED or DELETED")
    expiry: Expiry
    targets: StatusCounts = Field(description="each target counted once, by the record of its newest version")
    last_push: datetime | None = Field(description="when a record of this certificate last changed")
    in_flight: bool = Field(description="a push is PENDING or IN_PROGRESS")
    failing: list[str] = Field(
        default_factory=list,
        description="each target whose newest record is FAILED or ATTACH_FAILED: provider:service:region and reason",
    )


class CertificateList(BaseModel):
    certificates: list[CertificateSummary] = Field(description="failures first, then by certificate id")
    expiry_warning_days: int
    total: int = Field(0, description="certificates that match the filters, on every page")
    next_offset: int | None = Field(None, description="offset of the next page; none after the last")


class CertificateVersionView(BaseModel):
    version: int
    status: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str
    imported_at: datetime

    @classmethod
    def of(cls, version: CertificateVersion) -> CertificateVersionView:
        return cls(
            version=version.version,
            status=version.status.value,
            not_before=version.not_before,
            not_after=version.not_after,
            fingerprint_sha256=version.fingerprint_sha256,
            imported_at=version.imported_at,
        )


class CertificateDetail(BaseModel):
    summary: CertificateSummary
    versions: list[CertificateVersionView]
    targets: list[PushRecordView] = Field(description="one per target: the record of its newest version (the grid)")
    records: list[PushRecordView] = Field(description="current state per (version, provider, service, region)")
    history: list[PushRecordView] = Field(description="the latest 10 push records, newest first")


class PushPage(BaseModel):
    pushes: list[PushRecordView]
    source: str = Field(description="ByStatus or ByTarget: current records; ByDay: the history of finished pushes")
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class Summary(BaseModel):
    pushes: StatusCounts = Field(description="current records (one per version and target) by status")
    certificates: int
    expiring: int = Field(description="certificates whose latest version expires within the warning threshold")
    expiry_warning_days: int


class ReplayResult(BaseModel):
    certificate_id: str
    version: int | None
    issuance_id: str | None = Field(description="null when there was nothing to replay")
    targets: list[str] = Field(
        description="provider:service:region of each FAILED target pushed again (and ATTACH_FAILED one attached again)"
    )
