"""AWS CloudFront (``aws:cloudfront``, global): the certificate goes into ACM in us-east-1, the one
region whose certificates CloudFront serves, and is re-imported in place on renewal, so every
distribution that uses it keeps it. With ``--attach aws:cloudfront=DISTRIBUTION_ID`` it becomes the
distribution's viewer certificate (``cloudfront_adapter.py``)."""

from __future__ import annotations

from typing import ClassVar, Final

from certpush.models.domain import PushRecord
from certpush.ports import PushTarget
from certpush.providers.aws.quotas import CLOUDFRONT_QUOTAS
from certpush.providers.aws.rules import CLOUDFRONT_RULES
from certpush.providers.definition import Attachment, BuildContext, Inspection, PushTargetDefinition, TargetSettings

PROVIDER = "aws"
SERVICE = "cloudfront"
ACM_REGION = "us-east-1"
"""CloudFront only uses ACM certificates of us-east-1 (CloudFront Developer Guide, cnames-and-https-requirements)."""
SSL_SUPPORT_METHOD: Final = "sni-only"
MINIMUM_PROTOCOL_VERSION: Final = "TLSv1.2_2021"
SECURITY_POLICIES: Final = (
    "SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021",
    "TLSv1.2_2025", "TLSv1.3_2025",
)  # fmt: skip
"""CloudFront's security policies (``MinimumProtocolVersion``), least strict first: the order of the
CloudFront Developer Guide's table "Supported protocols and ciphers between viewers and CloudFront",
where each policy allows a subset of the protocols and ciphers of the one before it (TLSv1.2_2025
drops the CBC and ChaCha20 TLS 1.2 ciphers of TLSv1.2_2021; TLSv1.3_2025 allows TLS 1.3 only).
botocore's enum lists them in another order (TLSv1.3_2025 before TLSv1.2_2025): not an order of strength."""


def minimum_protocol_version(current: str | None) -> str:
    """The security policy an attach sets: ``MINIMUM_PROTOCOL_VERSION``, unless the distribution has a
    stricter one, which it keeps. A policy this list does not know is newer than it (CloudFront adds
    stricter policies over time, and the list starts at the oldest): it is kept too."""
    if not current:
        return MINIMUM_PROTOCOL_VERSION
    if current not in SECURITY_POLICIES:
        return current
    return max(current, MINIMUM_PROTOCOL_VERSION, key=SECURITY_POLICIES.index)


DEFAULT_CONSOLE_TEMPLATE = "https://us-east-1.console.aws.amazon.com/cloudfront/v4/home#/distributions"


class AwsCloudFrontSettings(TargetSettings):
    """``AWS_CLOUDFRONT_CONSOLE_TEMPLATE``: the "Configure Now" link; ``{target_id}`` is the ACM ARN."""

    ENV_PREFIX: ClassVar[str] = "AWS_CLOUDFRONT_"

    console_template: str = DEFAULT_CONSOLE_TEMPLATE


def build(settings: AwsCloudFrontSettings, context: BuildContext) -> PushTarget:
    from certpush.providers.aws.cloudfront_adapter import AwsCloudFrontTarget

    return AwsCloudFrontTarget(settings.console_template, rate_limiter=context.rate_limiter)


def inspect(record: PushRecord) -> Inspection:
    """ACM of us-east-1 holds the record's ARN; each distribution it was attached to serves it."""
    from certpush.adapters.aws_clients import aws_client

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
    "certificate (SNI)",
    regions=None,
    settings=AwsCloudFrontSettings,
    build=build,
    rules=CLOUDFRONT_RULES,
    attachment=Attachment(
        reference="a distribution id: its viewer certificate (SNI; TLSv1.2_2021, or the stricter policy it has)"
    ),
    inspect=inspect,
    quotas=CLOUDFRONT_QUOTAS,
)
