"""Domain models: what travels inside certpush once the edges have parsed their input."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

MAX_REGIONS_PER_SERVICE = 10
MAX_TARGET_NAME = 64
TARGET_NAME_PREFIX = "certpush-"
HISTORY_LENGTH = 10
GLOBAL_REGION = "global"
"""The one "region" of a global service (no region of its own): how records and history show it."""

# The one rule for a certificate id, at every boundary (CLI, events, queue messages): it is part of
# secret names, table keys and (with the version) of every name certpush gives a target.
CERTIFICATE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
CERTIFICATE_ID_RULE = "1 to 128 characters of A-Z a-z 0-9 . _ -, starting with a letter or a digit"
CertificateId = Annotated[str, StringConstraints(pattern=CERTIFICATE_ID_PATTERN)]


def is_certificate_id(value: str) -> bool:
    return re.fullmatch(CERTIFICATE_ID_PATTERN, value) is not None


Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,32}$")]


class CertificateStatus(StrEnum):
    HOSTED = "HOSTED"
    REVOKED = "REVOKED"
    DELETED = "DELETED"


class PushStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    RETRACTED = "RETRACTED"  # certpush deleted what this push made (``certpush retract``)
    # the target holds a newer version of the certificate: versions only move forward (not an error)
    SUPERSEDED = "SUPERSEDED"
    # a later push renewed in place the certificate this push had put there (``replaced_by``)
    REPLACED = "REPLACED"
    # the certificate IS in the target (the binding names this version), attaching it failed (``reason``)
    ATTACH_FAILED = "ATTACH_FAILED"

    @property
    def is_final(self) -> bool:
        return self not in (PushStatus.PENDING, PushStatus.IN_PROGRESS)

    @property
    def is_live(self) -> bool:
        """The target holds this version as this push left it (``ATTACH_FAILED``: held, not attached)."""
        return self in (PushStatus.SUCCEEDED, PushStatus.ATTACH_FAILED)

    @property
    def is_fine(self) -> bool:
        """Final and no action needed: in place, or a newer version is (``SUPERSEDED``)."""
        return self in (PushStatus.SUCCEEDED, PushStatus.SUPERSEDED)


class UploadAction(StrEnum):
    """What putting a certificate version into a target's store did."""

    CREATED = "CREATED"  # a new certificate in the target
    RENEWED_IN_PLACE = "RENEWED_IN_PLACE"  # the certificate an earlier version left now holds this one
    REUSED = "REUSED"  # this version was already there (an earlier attempt, or recorded)


class RejectReason(StrEnum):
    """Why the validator refused to attempt a push; the record's ``message`` says it for a person."""

    CERTIFICATE_NOT_FOUND = "CERTIFICATE_NOT_FOUND"
    NOT_HOSTED = "NOT_HOSTED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    KEY_MISMATCH = "KEY_MISMATCH"
    CHAIN_INVALID = "CHAIN_INVALID"
    INVALID_CERTIFICATE = "INVALID_CERTIFICATE"
    # what one target does not take (its own rules: ``TargetCertificateRules`` of its provider package)
    KEY_ALGORITHM_NOT_SUPPORTED = "KEY_ALGORITHM_NOT_SUPPORTED"
    KEY_SIZE_NOT_SUPPORTED = "KEY_SIZE_NOT_SUPPORTED"
    SIGNATURE_ALGORITHM_NOT_SUPPORTED = "SIGNATURE_ALGORITHM_NOT_SUPPORTED"
    CERTIFICATE_VERSION_NOT_SUPPORTED = "CERTIFICATE_VERSION_NOT_SUPPORTED"
    CERTIFICATE_TOO_LARGE = "CERTIFICATE_TOO_LARGE"
    PRIVATE_KEY_TOO_LARGE = "PRIVATE_KEY_TOO_LARGE"
    TOO_MANY_REGIONS = "TOO_MANY_REGIONS"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    UNKNOWN_SERVICE = "UNKNOWN_SERVICE"
    REGION_NOT_OFFERED = "REGION_NOT_OFFERED"
    ALREADY_PUSHED = "ALREADY_PUSHED"
    PUSH_IN_PROGRESS = "PUSH_IN_PROGRESS"


class TargetKey(BaseModel):
    """One place a certificate goes: a service of a provider in one region, or ``global`` for a
    service that has no regions."""

    model_config = ConfigDict(frozen=True)

    provider: str
    service: str
    region: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.service}:{self.region}"


class TargetOptions(BaseModel):
    """What to do with the certificate once it is in the target's store.

    ``attach``: references the certificate is added to (AWS: listener ARNs, as SNI certificates;
    Huawei Cloud ELB: ``region/listener_id`` as SNI; Huawei Cloud WAF: ``region/host_id``).
    ``attach_default``: listeners whose *default* certificate it becomes.
    Each adapter keeps only the references that belong to the region it pushes to.
    """

    model_config = ConfigDict(frozen=True)

    attach: tuple[str, ...] = ()
    attach_default: tuple[str, ...] = ()


class TargetSpec(BaseModel):
    """A service of a provider in one or more regions, as named in an issuance event or policy.
    A global service names no region (or ``global``)."""

    provider: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    service: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    regions: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=lambda: [GLOBAL_REGION], min_length=1
    )
    options: TargetOptions = TargetOptions()

    def target_keys(self) -> list[TargetKey]:
        seen: dict[str, None] = dict.fromkeys(self.regions)
        return [TargetKey(provider=self.provider, service=self.service, region=r) for r in seen]


class CertificateVersion(BaseModel):
    """Inventory metadata of one version of a certificate. Never holds key material."""

    certificate_id: str
    version: int = Field(ge=1)
    status: CertificateStatus = CertificateStatus.HOSTED
    common_name: str
    sans: list[str]
    fingerprint_sha256: str
    serial_number: str
    issuer: str
    not_before: datetime
    not_after: datetime
    key_type: str
    secret_id: str
    imported_at: datetime
    # what makes a re-import the same material (certpush_cli.logic.fingerprints); None on versions stored before
    key_fingerprint_sha256: str | None = Field(default=None, description="SHA-256 of the key's public half")
    chain_fingerprint_sha256: str | None = None

    @property
    def material_digest(self) -> str | None:
        """One digest of certificate, key and chain: two imports of the same material have the same.
        None for a version stored before key and chain digests were kept (it never matches)."""
        if self.key_fingerprint_sha256 is None:
            return None
        parts = (self.fingerprint_sha256, self.key_fingerprint_sha256, self.chain_fingerprint_sha256 or "")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


class CertificateMaterial(BaseModel):
    """PEM material of one version. Secrets never print: ``repr`` and logs show ``**********``."""

    model_config = ConfigDict(frozen=True)

    certificate_pem: str = Field(repr=False)
    chain_pem: str = Field(default="", repr=False)
    private_key_pem: SecretStr

    @property
    def full_chain_pem(self) -> str:
        parts = [self.certificate_pem.strip()]
        if self.chain_pem.strip():
            parts.append(self.chain_pem.strip())
        return "\n".join(parts) + "\n"


class PushRecord(BaseModel):
    """Current state of one push: (certificate, version, provider, service, region)."""

    certificate_id: str
    version: int
    provider: str
    service: str
    region: str
    status: PushStatus
    reason: str | None = None
    message: str | None = None
    target_id: str | None = None
    console_url: str | None = None
    attempts: int = 0
    sweeps: int = Field(default=0, description="times the sweeper re-queued this push")
    duration_ms: int | None = None
    issuance_id: str
    push_id: str
    options: TargetOptions = TargetOptions()
    forced: bool = Field(default=False, description="pushed again although recorded as present (push --force)")
    rollback: bool = Field(
        default=False, description="pushed with --rollback: may put this version over a newer one in the target"
    )
    upload_action: UploadAction | None = Field(
        default=None, description="what putting the certificate into the target's store did (the upload fact)"
    )
    attached: tuple[str, ...] = Field(
        default=(), description="the references (listeners, hosts, distributions, domains) it was attached to"
    )
    replaced_by: int | None = Field(default=None, description="REPLACED: the version renewed in place over this one")
    last_look: bool = Field(
        default=False,
        description="its last attempt went unanswered: the next delivery looks for what that attempt may have "
        "left in the target, making nothing, then finishes (certpush.logic.push)",
    )
    created_at: datetime
    updated_at: datetime
    # the claim that holds this push (never shown, never in the history): finish, note_error and
    # heartbeats only write while the stored record still carries this token
    lease_token: str | None = Field(default=None, exclude=True, repr=False)
    lease_until: datetime | None = Field(default=None, exclude=True, repr=False)
    # after an ambiguous error (a request the target may still carry out), no attempt before this time
    # ("not before"): written by note_error with the error, checked by every claim (never shown: the
    # record's reason says what happened; certpush.logic.record_rules)
    settle_until: datetime | None = Field(default=None, exclude=True, repr=False)

    @property
    def target(self) -> TargetKey:
        return TargetKey(provider=self.provider, service=self.service, region=self.region)


class Binding(BaseModel):
    """What one target holds of one certificate, as the records know it: the certificate's id there
    and the version it holds (both None before any version got there), and the lease of the push
    that is changing it (pushes of one certificate to one target run one at a time, across versions).
    ``settle_until``: a push of it ended an attempt with an ambiguous error; no push of the certificate
    to the target is claimed before then (a late create of that attempt may still land)."""

    target_id: str | None = None
    version: int | None = None
    lease_token: str | None = None
    lease_until: datetime | None = None
    settle_until: datetime | None = None


class PushState(BaseModel):
    """A push's record and its target's binding, as read together (``RecordsRepository.push_states``)."""

    record: PushRecord | None = None
    binding: Binding | None = None


class PushRequest(BaseModel):
    """What a push target adapter is asked to do."""

    certificate: CertificateVersion
    material: CertificateMaterial
    region: str
    options: TargetOptions = TargetOptions()
    previous_target_id: str | None = Field(
        default=None,
        description="id of the certificate the binding names in this target (another version of this "
        "certificate): the upload renews it in place",
    )

    @property
    def deterministic_name(self) -> str:
        """Name that a retry after a crash finds again: derived from certificate id and version.

        At most 64 characters of ``[A-Za-z0-9_.-]`` (the strictest target's rule). Two (id, version)
        pairs never share a name: a readable name ``certpush-{id}-v{version}`` is at most 63
        characters long; an id that must be shortened (or cleaned: ids from before the id rule)
        gets a name of exactly 64 characters that ends in a digest of the whole id, so no readable
        name can equal it, whatever id is chosen to look like one."""
        certificate_id = self.certificate.certificate_id
        cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", certificate_id)
        suffix = f"-v{self.certificate.version}"
        name = f"{TARGET_NAME_PREFIX}{cleaned}{suffix}"
        if len(name) < MAX_TARGET_NAME and cleaned == certificate_id:
            return name
        digest = hashlib.sha256(certificate_id.encode()).hexdigest()[:12]
        keep = MAX_TARGET_NAME - len(TARGET_NAME_PREFIX) - len(suffix) - len(digest) - 1
        return f"{TARGET_NAME_PREFIX}{cleaned[:keep].ljust(keep, '_')}-{digest}{suffix}"


class UploadResult(BaseModel):
    """The certificate version is in the target's store: its id there and how it got there."""

    target_id: str
    action: UploadAction
    detail: str | None = None


class AttachResult(BaseModel):
    """The references of ``PushRequest.options`` (in the request's region) the certificate is attached to."""

    attached: list[str] = Field(default_factory=list)
    detail: str | None = None


class Issuance(BaseModel):
    """The set of targets one issuance event resolved to; the notifier summarises it."""

    issuance_id: str
    certificate_id: str
    version: int
    targets: list[TargetKey]
    created_at: datetime


class IssuanceProgress(BaseModel):
    """How far one issuance has come: every target and the final status of those that are final."""

    issuance_id: str
    certificate_id: str
    version: int
    targets: list[str]
    outcomes: dict[str, str]

    @property
    def done(self) -> bool:
        return len(self.outcomes) >= len(self.targets)


class ReplayReport(BaseModel):
    """What the validator did with one issuance an event replay sent again (``certpush replay --events``):
    per target (``provider:service:region``) PUSHED, FINAL:STATUS (the issuance's outcome stands),
    RETRACTED (retracted since: not pushed again) or REJECTED:REASON."""

    replay_name: str
    issuance_id: str
    certificate_id: str
    version: int
    actions: dict[str, str]
    noted_at: datetime


class PushPolicy(BaseModel):
    """Domain pattern -> targets. ``pattern`` is a shell-style glob over the certificate's names."""

    name: Name
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    targets: list[TargetSpec] = Field(min_length=1)
    enabled: bool = True


class PushQuery(BaseModel):
    """Which push records a dashboard asks for. The records adapter picks the index: a status
    (ByStatus, current records), a whole target (ByTarget, current records), or else the history
    of finished pushes by day (ByDay)."""

    status: PushStatus | None = None
    provider: str | None = None
    service: str | None = None
    region: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class PushRecordsPage(BaseModel):
    records: list[PushRecord]
    index: str
    cursor: str | None = None


class RecordHead(BaseModel):
    """What a certificate's summary needs of a current record, and no more: the dashboard reads every
    current record of the table, and reading them whole was most of its time (a projection)."""

    model_config = ConfigDict(frozen=True)

    certificate_id: str
    version: int
    provider: str
    service: str
    region: str
    status: PushStatus
    reason: str | None = None
    updated_at: datetime

    @property
    def target(self) -> TargetKey:
        return TargetKey(provider=self.provider, service=self.service, region=self.region)

    @classmethod
    def of(cls, record: PushRecord) -> RecordHead:
        return cls.model_validate(record.model_dump(include=set(cls.model_fields)))
