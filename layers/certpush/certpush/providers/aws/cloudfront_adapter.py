"""AWS CloudFront adapter: ACM in us-east-1 (``acm.py``), then a distribution's viewer certificate.

Setting the viewer certificate follows the CloudFront API reference (UpdateDistribution): read the
whole DistributionConfig with its ETag, change only ``ViewerCertificate``, send it back with
``IfMatch``. A distribution changed by someone else in between answers PreconditionFailed: the push
is retried and reads the config again. With ``ACMCertificateArn``, ``SSLSupportMethod`` and
``MinimumProtocolVersion`` are required (ViewerCertificate reference); certpush asks for SNI
(no dedicated-IP charge) and TLSv1.2_2021, CloudFront's recommended security policy, unless the
distribution has a stricter one (TLSv1.2_2025, TLSv1.3_2025): that one it keeps
(``cloudfront.minimum_protocol_version``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_errors import translate_aws_error
from certpush.errors import PermanentPushError, PushError, TransientPushError
from certpush.models.domain import AttachResult, PushRequest, UploadResult
from certpush.ports import RateLimiter
from certpush.providers.aws.acm import AcmImporter, AwsClients
from certpush.providers.aws.cloudfront import (
    ACM_REGION,
    MINIMUM_PROTOCOL_VERSION,
    PROVIDER,
    SERVICE,
    SSL_SUPPORT_METHOD,
    minimum_protocol_version,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_cloudfront.type_defs import ViewerCertificateTypeDef


def _translate(exc: ClientError | BotoCoreError, action: str) -> PushError:
    code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
    if code == "NoSuchDistribution":
        return PermanentPushError("DISTRIBUTION_NOT_FOUND", f"{action}: no such distribution")
    if code == "PreconditionFailed":
        return TransientPushError(code, f"{action}: the distribution changed meanwhile")
    return translate_aws_error(exc, action)


class AwsCloudFrontTarget:
    provider = PROVIDER
    service = SERVICE

    def __init__(
        self,
        console_template: str,
        client_factory: Callable[[str, str], Any] = aws_client,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._console_template = console_template
        self._clients = AwsClients(client_factory, rate_limiter=rate_limiter)
        self._acm = AcmImporter(self._clients)

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return self._console_template.format(region=ACM_REGION, target_id=target_id or "")

    def upload(self, request: PushRequest) -> UploadResult:
        return self._acm.put(request, ACM_REGION)

    def find(self, request: PushRequest) -> UploadResult | None:
        return self._acm.find(request, ACM_REGION)

    def attach(self, request: PushRequest, arn: str) -> AttachResult:
        distributions = list(dict.fromkeys(request.options.attach))
        kept = [note for d in distributions if (note := self._set_viewer_certificate(d, arn)) is not None]
        return AttachResult(attached=distributions, detail="; ".join(kept) or None)

    def _set_viewer_certificate(self, distribution_id: str, arn: str) -> str | None:
        """Says so when the distribution keeps a stricter security policy than certpush's."""
        cloudfront: CloudFrontClient = self._clients("cloudfront", ACM_REGION)
        action = f"setting the viewer certificate of distribution {distribution_id}"
        try:
            current = cloudfront.get_distribution_config(Id=distribution_id)
            config = current["DistributionConfig"]
            viewer = config.get("ViewerCertificate", {})
            # on CloudFront's default certificate the policy reads TLSv1 (ViewerCertificate reference)
            policy = minimum_protocol_version(viewer.get("MinimumProtocolVersion"))
            wanted: ViewerCertificateTypeDef = {
                "ACMCertificateArn": arn,
                "SSLSupportMethod": SSL_SUPPORT_METHOD,
                "MinimumProtocolVersion": policy,  # type: ignore[typeddict-item]  # a policy newer than the stubs
                "CloudFrontDefaultCertificate": False,
            }
            kept = policy != MINIMUM_PROTOCOL_VERSION
            note = f"distribution {distribution_id} keeps its security policy {policy}" if kept else None
            if all(viewer.get(key) == value for key, value in wanted.items()):
                return note  # already so: a retry, or the same certificate re-imported in place
            config["ViewerCertificate"] = wanted
            cloudfront.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, action) from exc
        return note

    # -- retraction ------------------------------------------------------------------------------
    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """ACM's InUseBy, and the distributions certpush attached the certificate to that still serve it."""
        users = self._acm.in_use_by(ACM_REGION, target_id)
        if users is None:
            return []
        found = dict.fromkeys(users)
        cloudfront = self._clients("cloudfront", ACM_REGION)
        for distribution_id in dict.fromkeys(attached):
            try:
                config = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchDistribution":
                    continue
                raise _translate(exc, f"reading distribution {distribution_id}") from exc
            except BotoCoreError as exc:
                raise _translate(exc, f"reading distribution {distribution_id}") from exc
            if config.get("ViewerCertificate", {}).get("ACMCertificateArn") == target_id:
                found.setdefault(f"distribution {distribution_id}")
        return list(found)

    def retract(self, region: str, target_id: str) -> None:
        self._acm.delete(ACM_REGION, target_id)
