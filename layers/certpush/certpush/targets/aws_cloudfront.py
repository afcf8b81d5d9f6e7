"""AWS CloudFront (``aws:cloudfront``, global): the certificate goes into ACM in us-east-1, the one
region whose certificates CloudFront serves, and is re-imported in place on renewal, so every
distribution that uses it keeps it. With ``--attach aws:cloudfront=DISTRIBUTION_ID`` it becomes the
distribution's viewer certificate.

Setting the viewer certificate follows the CloudFront API reference (UpdateDistribution): read the
whole DistributionConfig with its ETag, change only ``ViewerCertificate``, send it back with
``IfMatch``. A distribution changed by someone else in between answers PreconditionFailed: the push
is retried and reads the config again. With ``ACMCertificateArn``, ``SSLSupportMethod`` and
``MinimumProtocolVersion`` are required (ViewerCertificate reference); certpush asks for SNI
(no dedicated-IP charge) and TLSv1.2_2021, CloudFront's recommended security policy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from pydantic_settings import SettingsConfigDict

from certpush.adapters.aws_acm import AcmImporter, AwsClients, translate_aws_error
from certpush.adapters.aws_clients import aws_client
from certpush.errors import PermanentPushError, PushError, TransientPushError
from certpush.models.domain import PushRecord, PushRequest, PushResult
from certpush.ports import PushTarget
from certpush.targets.definition import Attachment, BuildContext, Inspection, PushTargetDefinition, TargetSettings

if TYPE_CHECKING:
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_cloudfront.type_defs import ViewerCertificateTypeDef

PROVIDER = "aws"
SERVICE = "cloudfront"
ACM_REGION = "us-east-1"
"""CloudFront only uses ACM certificates of us-east-1 (CloudFront Developer Guide, cnames-and-https-requirements)."""
SSL_SUPPORT_METHOD: Final = "sni-only"
MINIMUM_PROTOCOL_VERSION: Final = "TLSv1.2_2021"
DEFAULT_CONSOLE_TEMPLATE = "https://us-east-1.console.aws.amazon.com/cloudfront/v4/home#/distributions"


class AwsCloudFrontSettings(TargetSettings):
    """``AWS_CLOUDFRONT_CONSOLE_TEMPLATE``: the "Configure Now" link; ``{target_id}`` is the ACM ARN."""

    model_config = SettingsConfigDict(env_prefix="AWS_CLOUDFRONT_")

    console_template: str = DEFAULT_CONSOLE_TEMPLATE


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

    def __init__(self, console_template: str, client_factory: Callable[[str, str], Any] = aws_client) -> None:
        self._console_template = console_template
        self._clients = AwsClients(client_factory)
        self._acm = AcmImporter(self._clients)

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return self._console_template.format(region=ACM_REGION, target_id=target_id or "")

    def push(self, request: PushRequest) -> PushResult:
        arn, detail = self._acm.put(request, ACM_REGION)
        for distribution_id in dict.fromkeys(request.options.attach):
            self._set_viewer_certificate(distribution_id, arn)
        return PushResult(target_id=arn, console_url=self.console_url(request.region, arn), detail=detail)

    def _set_viewer_certificate(self, distribution_id: str, arn: str) -> None:
        cloudfront: CloudFrontClient = self._clients("cloudfront", ACM_REGION)
        action = f"setting the viewer certificate of distribution {distribution_id}"
        try:
            current = cloudfront.get_distribution_config(Id=distribution_id)
            config = current["DistributionConfig"]
            wanted: ViewerCertificateTypeDef = {
                "ACMCertificateArn": arn,
                "SSLSupportMethod": SSL_SUPPORT_METHOD,
                "MinimumProtocolVersion": MINIMUM_PROTOCOL_VERSION,
                "CloudFrontDefaultCertificate": False,
            }
            viewer = config.get("ViewerCertificate", {})
            if all(viewer.get(key) == value for key, value in wanted.items()):
                return  # already so: a retry, or the same certificate re-imported in place
            config["ViewerCertificate"] = wanted
            cloudfront.update_distribution(Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config)
        except (ClientError, BotoCoreError) as exc:
            raise _translate(exc, action) from exc

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


def build(settings: AwsCloudFrontSettings, context: BuildContext) -> PushTarget:
    return AwsCloudFrontTarget(settings.console_template)


def inspect(record: PushRecord) -> Inspection:
    """ACM of us-east-1 holds the record's ARN; each distribution it was attached to serves it."""
    arn = record.target_id or ""
    acm = aws_client("acm", ACM_REGION)
    try:
        acm.describe_certificate(CertificateArn=arn)
        yield f"aws:cloudfront ACM ({ACM_REGION}) has {arn}", True
    except acm.exceptions.ResourceNotFoundException:
        yield f"aws:cloudfront ACM ({ACM_REGION}) has no {arn}", False
        return
    cloudfront = aws_client("cloudfront", ACM_REGION)
    for distribution_id in record.options.attach:
        viewer = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]["ViewerCertificate"]
        present = viewer.get("ACMCertificateArn") == arn and viewer.get("SSLSupportMethod") == SSL_SUPPORT_METHOD
        yield (
            f"aws:cloudfront distribution {distribution_id} serves it ({viewer.get('MinimumProtocolVersion')})",
            present,
        )


DEFINITION = PushTargetDefinition(
    provider=PROVIDER,
    service=SERVICE,
    description="ACM in us-east-1 (re-imported in place on renewal), then optionally a distribution's viewer "
    "certificate",
    regions=None,
    settings=AwsCloudFrontSettings,
    build=build,
    attachment=Attachment(reference="a distribution id: its viewer certificate (SNI, TLSv1.2_2021)"),
    inspect=inspect,
)
