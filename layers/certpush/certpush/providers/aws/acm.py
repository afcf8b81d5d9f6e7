"""ACM, shared by the AWS targets whose certificates live there (ELB in its region, CloudFront in
us-east-1), and the translation of AWS errors into ours.

Idempotence: where certpush recorded the certificate's ARN in that region (the binding of its last
successful push), one DescribeCertificate says whether this version is already there; otherwise it
re-imports in place by ARN, which keeps every association (listeners, distributions). Only the first
push of a certificate into a region, with nothing recorded, looks through the region's ACM for a
certificate with the same serial number (a retry after a crash finds the one an earlier attempt
imported)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    ReadTimeoutError,
)

from certpush.adapters.aws_clients import aws_client
from certpush.errors import PermanentPushError, PushError, ServiceUnavailableInRegionError, TransientPushError
from certpush.models.domain import PushRequest, UploadAction, UploadResult

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_acm.literals import KeyAlgorithmType
    from mypy_boto3_acm.type_defs import TagTypeDef

_TRANSIENT_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestInProgressException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServiceError",
    "CertificateNotFound",  # ELBv2 may not see a fresh ACM import for a moment
}
_UNAVAILABLE_CODES = {
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "OptInRequired",
    "UnrecognizedClientException",
}
_QUOTA_CODES = {"LimitExceededException", "TooManyCertificates", "TooManyTagsException"}


def translate_aws_error(exc: Exception, action: str) -> PushError:
    """ClientError / transport errors -> our exceptions, by error code and HTTP status only."""
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        # sent, but no answer came: ACM may have done it (a late import) -- the retry settles, then looks
        return TransientPushError("NETWORK", f"{action}: {exc}", ambiguous=True)
    if isinstance(exc, ConnectionError):
        return TransientPushError("NETWORK", f"{action}: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        message = f"{action}: {error.get('Message', code)}"
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            # a 5xx other than 503 may come after the work was done (an internal failure, a gateway timeout)
            return TransientPushError(code, message, ambiguous=status >= 500 and status != 503)
        if code in _UNAVAILABLE_CODES:
            return ServiceUnavailableInRegionError("SERVICE_UNAVAILABLE", f"{message} ({code})")
        if code in _QUOTA_CODES:
            return PermanentPushError("QUOTA_EXCEEDED", f"{message} ({code})")
        if code in {"ListenerNotFound", "ListenerNotFoundException"}:
            return PermanentPushError("LISTENER_NOT_FOUND", message)
        return PermanentPushError("CERTIFICATE_REFUSED", f"{message} ({code})")
    if isinstance(exc, BotoCoreError):
        return TransientPushError("NETWORK", f"{action}: {exc}")
    return PermanentPushError("UNEXPECTED", f"{action}: {exc}")


# ListCertificates returns only RSA_2048 certificates unless asked for every key type.
_ACM_KEY_TYPES: list[KeyAlgorithmType] = [
    "RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1",
]  # fmt: skip


def _serial_value(serial: str) -> int | None:
    """ACM prints serials as colon-separated hex; some emulators print a decimal string."""
    try:
        return int(serial.replace(":", ""), 16) if ":" in serial else int(serial)
    except ValueError:
        return None


def region_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


class AwsClients:
    """One boto3 client per (service, region), made on first use."""

    def __init__(self, factory: Callable[[str, str], Any] = aws_client) -> None:
        self._factory = factory
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._factory(service, region)
        return self._clients[key]


class AcmImporter:
    """Puts a certificate version into ACM of one region, once: finds it, re-imports in place, or imports."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def put(self, request: PushRequest, region: str) -> UploadResult:
        """The version in ACM of ``region``: its ARN and what was done."""
        acm: ACMClient = self._clients("acm", region)
        previous = request.previous_target_id
        if previous and region_of_arn(previous) == region:
            # what certpush recorded: one DescribeCertificate, never a listing of the region
            if self._is_same_certificate(acm, previous, request):
                return UploadResult(target_id=previous, action=UploadAction.REUSED, detail="already in ACM")
            return self._import(acm, request, region)
        # nothing recorded in this region yet (its first push): an earlier attempt may have imported
        # it before failing, so look for it (ACM has no lookup by tag, and moto's tagging API knows no ACM)
        arn = self._find_same_certificate(acm, request)
        if arn is not None:
            return UploadResult(target_id=arn, action=UploadAction.REUSED, detail="already in ACM")
        return self._import(acm, request, region)

    def _is_same_certificate(self, acm: ACMClient, arn: str, request: PushRequest) -> bool:
        try:
            described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False  # deleted by someone: imported afresh below
            raise translate_aws_error(exc, "describing the certificate in ACM") from exc
        except BotoCoreError as exc:
            raise translate_aws_error(exc, "describing the certificate in ACM") from exc
        wanted = int(request.certificate.serial_number, 16)
        return described.get("Type") == "IMPORTED" and _serial_value(str(described.get("Serial", ""))) == wanted

    def _find_same_certificate(self, acm: ACMClient, request: PushRequest) -> str | None:
        wanted = int(request.certificate.serial_number, 16)
        try:
            paginator = acm.get_paginator("list_certificates")
            for page in paginator.paginate(Includes={"keyTypes": _ACM_KEY_TYPES}):
                for summary in page.get("CertificateSummaryList", []):
                    if summary.get("DomainName") != request.certificate.common_name:
                        continue
                    described = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
                    if (
                        described.get("Type") == "IMPORTED"
                        and _serial_value(str(described.get("Serial", ""))) == wanted
                    ):
                        return str(summary["CertificateArn"])
        except (ClientError, BotoCoreError) as exc:
            raise translate_aws_error(exc, "looking for the certificate in ACM") from exc
        return None

    def _import(self, acm: ACMClient, request: PushRequest, region: str) -> UploadResult:
        material = request.material
        arguments: dict[str, Any] = {
            "Certificate": material.certificate_pem.encode(),
            "PrivateKey": material.private_key_pem.get_secret_value().encode(),
        }
        if material.chain_pem.strip():
            arguments["CertificateChain"] = material.chain_pem.encode()
        previous = request.previous_target_id
        if previous and region_of_arn(previous) == region:
            try:
                response = acm.import_certificate(CertificateArn=previous, **arguments)
                # tags may not be passed on re-import: bring the version tag up to date afterwards
                acm.add_tags_to_certificate(CertificateArn=previous, Tags=self._tags(request))
                return UploadResult(
                    target_id=str(response["CertificateArn"]),
                    action=UploadAction.RENEWED_IN_PLACE,
                    detail="re-imported in place",
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise translate_aws_error(exc, "re-importing into ACM") from exc
                # the earlier import was deleted by someone: import afresh
        try:
            response = acm.import_certificate(Tags=self._tags(request), **arguments)
        except (ClientError, BotoCoreError) as exc:
            raise translate_aws_error(exc, "importing into ACM") from exc
        return UploadResult(target_id=str(response["CertificateArn"]), action=UploadAction.CREATED, detail="imported")

    def in_use_by(self, region: str, arn: str) -> list[str] | None:
        """ACM's InUseBy of the certificate (the AWS resources that use it); None when it is gone."""
        acm = self._clients("acm", region)
        try:
            described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise translate_aws_error(exc, "describing the certificate in ACM") from exc
        except BotoCoreError as exc:
            raise translate_aws_error(exc, "describing the certificate in ACM") from exc
        return [str(user) for user in described.get("InUseBy") or []]

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
            {"Key": "certpush:certificate-id", "Value": request.certificate.certificate_id},
            {"Key": "certpush:version", "Value": str(request.certificate.version)},
        ]
