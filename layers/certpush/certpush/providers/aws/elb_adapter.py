"""AWS ELB push target: the certificate goes into ACM in the target region (``aws_acm``), then
onto listeners: ``options.attach`` as SNI certificates, ``options.attach_default`` as default."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.aws_errors import translate_aws_error
from certpush.models.domain import AttachResult, PushRequest, UploadResult
from certpush.ports import RateLimiter
from certpush.providers.aws.acm import AcmImporter, AwsClients, region_of_arn

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

PROVIDER = "aws"
SERVICE = "elb"


class AwsElbTarget:
    provider = PROVIDER
    service = SERVICE

    def __init__(
        self,
        console_template: str,
        client_factory: Callable[[str, str], Any] = aws_client,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self._console_template = console_template
        self._client = AwsClients(client_factory, rate_limiter=rate_limiter)
        self._acm = AcmImporter(self._client)

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return self._console_template.format(
            region=region, target_id=target_id or "", target_name=(target_id or "").rsplit("/", 1)[-1]
        )

    def upload(self, request: PushRequest) -> UploadResult:
        return self._acm.put(request, request.region)

    def find(self, request: PushRequest) -> UploadResult | None:
        return self._acm.find(request, request.region)

    def attach(self, request: PushRequest, arn: str) -> AttachResult:
        """``attach_default``: the listener's default certificate (ModifyListener); ``attach``: an SNI
        certificate (AddListenerCertificates, a no-op when it is there). Listeners of other regions
        are another push's."""
        attached: list[str] = []
        elbv2: ElasticLoadBalancingv2Client | None = None
        for listener in request.options.attach_default:
            if region_of_arn(listener) != request.region:
                continue
            elbv2 = elbv2 or self._client("elbv2", request.region)
            try:
                elbv2.modify_listener(ListenerArn=listener, Certificates=[{"CertificateArn": arn}])
            except (ClientError, BotoCoreError) as exc:
                raise translate_aws_error(exc, f"setting the default certificate of {listener}") from exc
            attached.append(listener)
        for listener in request.options.attach:
            if region_of_arn(listener) != request.region:
                continue
            elbv2 = elbv2 or self._client("elbv2", request.region)
            try:
                elbv2.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": arn}])
            except (ClientError, BotoCoreError) as exc:
                raise translate_aws_error(exc, f"adding the certificate to {listener}") from exc
            attached.append(listener)
        return AttachResult(attached=list(dict.fromkeys(attached)))

    # -- retraction ------------------------------------------------------------------------------
    def in_use(self, region: str, target_id: str, attached: Sequence[str] = ()) -> list[str]:
        """ACM's InUseBy, and the listeners certpush attached the certificate to that still hold it
        (an emulator may leave InUseBy empty)."""
        users = self._acm.in_use_by(region, target_id)
        if users is None:
            return []
        found = dict.fromkeys(users)
        elbv2 = self._client("elbv2", region)
        for listener in (ref for ref in attached if region_of_arn(ref) == region):
            try:
                held = elbv2.describe_listener_certificates(ListenerArn=listener).get("Certificates", [])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("ListenerNotFound", "ListenerNotFoundException"):
                    continue
                raise translate_aws_error(exc, f"reading the certificates of {listener}") from exc
            except BotoCoreError as exc:
                raise translate_aws_error(exc, f"reading the certificates of {listener}") from exc
            if any(c.get("CertificateArn") == target_id for c in held):
                found.setdefault(f"listener {listener}")
        return list(found)

    def retract(self, region: str, target_id: str) -> None:
        self._acm.delete(region, target_id)
