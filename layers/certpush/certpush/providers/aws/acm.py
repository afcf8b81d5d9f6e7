"""ACM, shared by the AWS targets whose certificates live there (ELB in its region, CloudFront in
us-east-1). AWS errors become ours in ``certpush.adapters.aws_errors`` (``translate_aws_error``).

Idempotence. Every certificate certpush imports carries two tags, given in the ImportCertificate call
itself (so a late import is tagged the moment it exists): ``certpush:certificate-id`` and
``certpush:version``. The pair names what the certificate holds now: a re-import in place moves the
version tag with it (AddTagsToCertificate, as tags cannot come with a re-import), so no other key is
needed; the serial, read with DescribeCertificate, confirms it.

- Where certpush recorded the certificate's ARN in that region (the binding of its last live push), one
  DescribeCertificate says whether this version is already there; otherwise it re-imports in place by
  ARN, which keeps every association (listeners, distributions).
- Otherwise (the first push of the certificate into the region, or the recorded one is gone) one
  GetResources call of the Resource Groups Tagging API finds the certificates tagged with this id and
  version, and one DescribeCertificate each confirms the serial: never a listing of the region's
  certificates (ListCertificates pages through all of them, on one of ACM's lowest request quotas).

The tagging API is treated as eventually consistent (it answers from an index of tags that AWS does
not promise to be current; ACM documents its own DeleteCertificate as eventually consistent): a
certificate imported or re-tagged a moment ago may not be listed yet, one deleted may still be. A
retry after an ambiguous error (a timed-out import ACM may still carry out) comes only after
``RetryPolicy.settle_seconds`` (PushSettleSeconds, 30 s): long enough for the late import to land and
be listed. Should two copies of one version be found anyway (an import that landed after the retry
had made its own), the push keeps one (the one the binding names, else the oldest) and deletes the
others that nothing uses (ACM's InUseBy), and its record says so.

A fresh import is made with a client that does not retry: botocore's standard mode retries a read
timeout or a 500 (requests ACM may have carried out) at once, and ImportCertificate has no idempotency
token, so each of its retries could import one more copy. The push worker's own retry settles first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_errors import is_throttle, translate_aws_error
from certpush.errors import PermanentPushError
from certpush.models.domain import PushRequest, UploadAction, UploadResult
from certpush.ports import RateLimiter

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_acm.type_defs import TagTypeDef

PROVIDER = "aws"

CERTIFICATE_ID_TAG = "certpush:certificate-id"
VERSION_TAG = "certpush:version"
ACM_RESOURCE_TYPE = "acm:certificate"  # GetResources' ResourceTypeFilters: service[:resourceType]


def _serial_value(serial: str) -> int | None:
    """ACM prints serials as colon-separated hex; some emulators print a decimal string."""
    try:
        return int(serial.replace(":", ""), 16) if ":" in serial else int(serial)
    except ValueError:
        return None


def region_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _single_attempt_client(service: str, region: str) -> Any:
    return aws_client(service, region, max_attempts=1)


def pace_calls(client: Any, service: str, region: str, limiter: RateLimiter) -> None:
    """Every request ``client`` sends (each of botocore's retries too) waits for ``limiter`` first
    (botocore's ``before-send`` event: once per HTTP attempt, with the operation in its name), and a
    throttled answer holds its budget off for a second (``needs-retry``: the answer before botocore's
    own backoff; AWS sends no Retry-After)."""

    def before_send(event_name: str, **_: Any) -> None:
        limiter.acquire(PROVIDER, service, event_name.rsplit(".", 1)[-1], region)

    def after_answer(event_name: str, response: Any = None, **_: Any) -> None:
        if _throttled(response):
            limiter.hold_off(PROVIDER, service, event_name.rsplit(".", 1)[-1], region, 1.0)

    client.meta.events.register("before-send", before_send)
    client.meta.events.register("needs-retry", after_answer)


def _throttled(response: Any) -> bool:
    """Whether botocore's answer (``needs-retry`` gets ``(http_response, parsed)``) is a throttle."""
    if not isinstance(response, tuple) or len(response) != 2:
        return False
    http, parsed = response
    return is_throttle(parsed, int(getattr(http, "status_code", 0) or 0))


class AwsClients:
    """One boto3 client per (service, region), made on first use.

    ``single_attempt`` clients make each call once (no SDK retry): for calls that must not be repeated
    blindly. With a factory of its own (tests), that factory makes them too."""

    def __init__(
        self,
        factory: Callable[[str, str], Any] = aws_client,
        single_attempt_factory: Callable[[str, str], Any] | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._rate_limiter = rate_limiter
        self._factory = factory
        self._single_attempt_factory = single_attempt_factory or (
            _single_attempt_client if factory is aws_client else factory
        )
        self._clients: dict[tuple[str, str, bool], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        return self._client(service, region, single_attempt=False)

    def single_attempt(self, service: str, region: str) -> Any:
        return self._client(service, region, single_attempt=True)

    def _client(self, service: str, region: str, *, single_attempt: bool) -> Any:
        key = (service, region, single_attempt)
        if key not in self._clients:
            factory = self._single_attempt_factory if single_attempt else self._factory
            client = factory(service, region)
            if self._rate_limiter is not None:
                pace_calls(client, service, region, self._rate_limiter)
            self._clients[key] = client
        return self._clients[key]


@dataclass(frozen=True)
class _Held:
    """An ACM certificate that holds the version being pushed (DescribeCertificate)."""

    arn: str
    imported_at: datetime | None
    in_use_by: tuple[str, ...]

    @property
    def order(self) -> tuple[float, str]:
        return (self.imported_at.timestamp() if self.imported_at else float("inf"), self.arn)


class AcmImporter:
    """Puts a certificate version into ACM of one region, once: finds it, re-imports in place, or imports."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def put(self, request: PushRequest, region: str) -> UploadResult:
        """The version in ACM of ``region``: its ARN and what was done."""
        acm: ACMClient = self._clients("acm", region)
        previous = request.previous_target_id
        if previous and region_of_arn(previous) == region:
            # what certpush recorded: one DescribeCertificate, never a lookup in the region
            described = self._describe(acm, previous)
            if described is not None and self._holds(described, request):
                # this version is there already: a retry after the re-import landed, or push --force
                return self._reuse(acm, request, region, self._as_held(described), self._find(acm, request, region))
            if described is not None:
                return self._reimport(acm, request, previous)
            # the recorded certificate was deleted by someone: looked for, then imported afresh below
        found = self._find(acm, request, region)
        if found:
            return self._reuse(acm, request, region, found[0], found)
        return self._import(request, region)

    def find(self, request: PushRequest, region: str) -> UploadResult | None:
        """What ``put`` would find of the version, importing and re-importing nothing: the certificate the
        binding names when it holds the version (a re-import that landed late), else one tagged with it."""
        acm: ACMClient = self._clients("acm", region)
        found = self._find(acm, request, region)
        previous = request.previous_target_id
        if previous and region_of_arn(previous) == region:
            described = self._describe(acm, previous)
            if described is not None and self._holds(described, request):
                return self._reuse(acm, request, region, self._as_held(described), found)
        return self._reuse(acm, request, region, found[0], found) if found else None

    # -- finding ---------------------------------------------------------------------------------
    def _find(self, acm: ACMClient, request: PushRequest, region: str) -> list[_Held]:
        """The certificates tagged with this certificate id and version that hold it (serial), oldest first.

        GetResources ANDs the filters of different keys (Resource Groups Tagging API reference,
        GetResources, TagFilters). Eventually consistent: a certificate tagged a moment ago may be
        missing, one deleted a moment ago may still be listed (DescribeCertificate then says it is gone)."""
        tagging = self._clients("resourcegroupstaggingapi", region)
        arns: list[str] = []
        try:
            for page in tagging.get_paginator("get_resources").paginate(
                ResourceTypeFilters=[ACM_RESOURCE_TYPE],
                TagFilters=[
                    {"Key": CERTIFICATE_ID_TAG, "Values": [request.certificate.certificate_id]},
                    {"Key": VERSION_TAG, "Values": [str(request.certificate.version)]},
                ],
            ):
                arns += [str(m["ResourceARN"]) for m in page.get("ResourceTagMappingList", []) if "ResourceARN" in m]
        except (ClientError, BotoCoreError) as exc:
            raise translate_aws_error(exc, "looking for the certificate in ACM by its tags", changes=False) from exc
        held = []
        for arn in dict.fromkeys(arns):
            if region_of_arn(arn) != region:
                continue
            described = self._describe(acm, arn)
            if described is not None and self._holds(described, request):
                held.append(self._as_held(described))
        return sorted(held, key=lambda h: h.order)

    def _describe(self, acm: ACMClient, arn: str) -> dict[str, Any] | None:
        """DescribeCertificate's ``Certificate``; None when there is no such certificate (any more)."""
        try:
            return dict(acm.describe_certificate(CertificateArn=arn)["Certificate"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise translate_aws_error(exc, "describing the certificate in ACM", changes=False) from exc
        except BotoCoreError as exc:
            raise translate_aws_error(exc, "describing the certificate in ACM", changes=False) from exc

    @staticmethod
    def _holds(described: dict[str, Any], request: PushRequest) -> bool:
        wanted = int(request.certificate.serial_number, 16)
        return described.get("Type") == "IMPORTED" and _serial_value(str(described.get("Serial", ""))) == wanted

    @staticmethod
    def _as_held(described: dict[str, Any]) -> _Held:
        imported_at = described.get("ImportedAt") or described.get("CreatedAt")
        return _Held(
            arn=str(described["CertificateArn"]),
            imported_at=imported_at if isinstance(imported_at, datetime) else None,
            in_use_by=tuple(str(user) for user in described.get("InUseBy") or ()),
        )

    # -- reusing, and removing duplicates --------------------------------------------------------
    def _reuse(
        self, acm: ACMClient, request: PushRequest, region: str, keep: _Held, found: Sequence[_Held]
    ) -> UploadResult:
        """``keep`` holds the version: the others found holding it are duplicates (a late import)."""
        notes = ["already in ACM"]
        if keep.arn not in {h.arn for h in found}:
            # holds the version but its tag says otherwise (a re-import whose re-tagging did not happen)
            self._tag(acm, keep.arn, request, "tagging the certificate in ACM")
        for duplicate in (h for h in found if h.arn != keep.arn):
            notes.append(self._remove_duplicate(acm, request, duplicate))
        return UploadResult(target_id=keep.arn, action=UploadAction.REUSED, detail="; ".join(notes))

    def _remove_duplicate(self, acm: ACMClient, request: PushRequest, duplicate: _Held) -> str:
        """Deletes a second copy of the version unless something uses it. Best effort: the version is
        in ACM whatever happens here, so a failure is said, never raised (the record must not say
        FAILED for a certificate that is there)."""
        what = f"a duplicate of version {request.certificate.version} ({duplicate.arn})"
        if duplicate.in_use_by:
            return f"kept {what}: used by {', '.join(duplicate.in_use_by)}"
        try:
            acm.delete_certificate(CertificateArn=duplicate.arn)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            if code == "ResourceNotFoundException":
                return f"{what} was gone already"
            if code == "ResourceInUseException":
                return f"kept {what}: in use"
            return f"could not remove {what}: {code}"
        except BotoCoreError as exc:
            return f"could not remove {what}: {type(exc).__name__}"
        return f"removed {what}, which nothing used"

    # -- importing -------------------------------------------------------------------------------
    @staticmethod
    def _material(request: PushRequest) -> dict[str, Any]:
        material = request.material
        arguments: dict[str, Any] = {
            "Certificate": material.certificate_pem.encode(),
            "PrivateKey": material.private_key_pem.get_secret_value().encode(),
        }
        if material.chain_pem.strip():
            arguments["CertificateChain"] = material.chain_pem.encode()
        return arguments

    def _reimport(self, acm: ACMClient, request: PushRequest, arn: str) -> UploadResult:
        """Re-import in place by ARN (ACM User Guide, "Reimport a certificate"): the associations stay.
        Idempotent: repeated (by the SDK or a retry), it leaves the same certificate."""
        try:
            response = acm.import_certificate(CertificateArn=arn, **self._material(request))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise translate_aws_error(exc, "re-importing into ACM") from exc
            # deleted between the describe and the re-import: looked for, then imported afresh
            found = self._find(acm, request, region_of_arn(arn))
            if found:
                return self._reuse(acm, request, region_of_arn(arn), found[0], found)
            return self._import(request, region_of_arn(arn))
        except BotoCoreError as exc:
            raise translate_aws_error(exc, "re-importing into ACM") from exc
        # tags may not be passed on re-import: the version tag moves afterwards
        self._tag(acm, arn, request, "tagging the re-imported certificate in ACM")
        return UploadResult(
            target_id=str(response["CertificateArn"]),
            action=UploadAction.RENEWED_IN_PLACE,
            detail="re-imported in place",
        )

    def _import(self, request: PushRequest, region: str) -> UploadResult:
        """A new certificate, tagged in the same call. Made once: no SDK retry (see the module)."""
        once: ACMClient = self._clients.single_attempt("acm", region)
        try:
            response = once.import_certificate(Tags=self._tags(request), **self._material(request))
        except (ClientError, BotoCoreError) as exc:
            raise translate_aws_error(exc, "importing into ACM") from exc
        return UploadResult(target_id=str(response["CertificateArn"]), action=UploadAction.CREATED, detail="imported")

    def _tag(self, acm: ACMClient, arn: str, request: PushRequest, action: str) -> None:
        try:
            acm.add_tags_to_certificate(CertificateArn=arn, Tags=self._tags(request))
        except (ClientError, BotoCoreError) as exc:
            raise translate_aws_error(exc, action) from exc

    # -- retraction ------------------------------------------------------------------------------
    def in_use_by(self, region: str, arn: str) -> list[str] | None:
        """ACM's InUseBy of the certificate (the AWS resources that use it); None when it is gone."""
        described = self._describe(self._clients("acm", region), arn)
        return None if described is None else [str(user) for user in described.get("InUseBy") or []]

    def delete(self, region: str, arn: str) -> None:
        """DeleteCertificate; a certificate already gone is not an error. ACM refuses one in use."""
        acm = self._clients("acm", region)
        try:
            acm.delete_certificate(CertificateArn=arn)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ResourceNotFoundException":
                return
            if code == "ResourceInUseException":
                raise PermanentPushError("CERTIFICATE_IN_USE", f"ACM refuses to delete {arn}: in use") from exc
            raise translate_aws_error(exc, "deleting the certificate from ACM") from exc
        except BotoCoreError as exc:
            raise translate_aws_error(exc, "deleting the certificate from ACM") from exc

    @staticmethod
    def _tags(request: PushRequest) -> list[TagTypeDef]:
        return [
            {"Key": CERTIFICATE_ID_TAG, "Value": request.certificate.certificate_id},
            {"Key": VERSION_TAG, "Value": str(request.certificate.version)},
        ]
