"""AWS ELB (``aws:elb``): the certificate goes into ACM in the target region, then optionally onto
ALB/NLB listeners. A renewal re-imports in place by ARN, so listeners keep their association."""

from __future__ import annotations

from typing import ClassVar

from certpush.models.domain import PushRecord
from certpush.ports import PushTarget
from certpush.providers.aws.quotas import ELB_QUOTAS
from certpush.providers.aws.rules import ACM_RULES
from certpush.providers.definition import Attachment, BuildContext, Inspection, PushTargetDefinition, TargetSettings

# AWS commercial regions in which Elastic Load Balancing and ACM are offered.
REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "af-south-1",
        "ap-east-1", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2",
        "eu-north-1",
        "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    }
)  # fmt: skip

DEFAULT_CONSOLE_TEMPLATE = "https://{region}.console.aws.amazon.com/ec2/home?region={region}#LoadBalancers:"


class AwsElbSettings(TargetSettings):
    """``AWS_ELB_CONSOLE_TEMPLATE``: the "Configure Now" link; ``{region}``, ``{target_id}`` (the
    ACM ARN) and ``{target_name}`` (its last part)."""

    ENV_PREFIX: ClassVar[str] = "AWS_ELB_"

    console_template: str = DEFAULT_CONSOLE_TEMPLATE


def build(settings: AwsElbSettings, context: BuildContext) -> PushTarget:
    from certpush.providers.aws.elb_adapter import AwsElbTarget

    return AwsElbTarget(settings.console_template, rate_limiter=context.rate_limiter)


def inspect(record: PushRecord) -> Inspection:
    """ACM of the record's region holds its ARN; each listener it was attached to lists it."""
    from certpush.adapters.aws_clients import aws_client
    from certpush.providers.aws.acm import region_of_arn

    arn = record.target_id or ""
    acm = aws_client("acm", record.region)
    try:
        acm.describe_certificate(CertificateArn=arn)
        yield f"aws:elb:{record.region} ACM has {arn}", True
    except acm.exceptions.ResourceNotFoundException:
        yield f"aws:elb:{record.region} ACM has no {arn}", False
        return
    elbv2 = aws_client("elbv2", record.region)
    for listener in record.options.attach:
        if region_of_arn(listener) != record.region:
            continue
        found = elbv2.describe_listener_certificates(ListenerArn=listener)["Certificates"]
        present = any(c.get("CertificateArn") == arn for c in found)
        yield f"aws:elb:{record.region} listener {listener.rsplit('/', 3)[-3]} has it", present
    for listener in record.options.attach_default:
        if region_of_arn(listener) != record.region:
            continue
        described = elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]
        present = any(c.get("CertificateArn") == arn for c in described.get("Certificates", []))
        yield f"aws:elb:{record.region} listener {listener.rsplit('/', 3)[-3]} has it as default", present


DEFINITION = PushTargetDefinition(
    provider="aws",
    service="elb",
    description="ACM in the target region (re-imported in place on renewal), then optionally onto ALB/NLB listeners",
    regions=REGIONS,
    settings=AwsElbSettings,
    build=build,
    rules=ACM_RULES,
    attachment=Attachment(
        reference="a listener ARN, added as an SNI certificate (its region is read from the ARN)",
        default="makes it the listener's default certificate",
    ),
    inspect=inspect,
    quotas=ELB_QUOTAS,
)
