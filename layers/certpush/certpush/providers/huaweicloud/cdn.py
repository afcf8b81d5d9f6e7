"""Huawei Cloud CDN (``huaweicloud:cdn``, global): the certificate is configured on accelerated domains
(the ``--attach`` domain names, or every accelerated domain the certificate covers)."""

from __future__ import annotations

from certpush.ports import PushTarget
from certpush.providers.definition import Attachment, BuildContext, PushTargetDefinition
from certpush.providers.huaweicloud.quotas import QUOTAS
from certpush.providers.huaweicloud.regions import CDN
from certpush.providers.huaweicloud.rules import CDN_RULES
from certpush.providers.huaweicloud.shared import HuaweiCloudSettings, shared_client


def build(settings: HuaweiCloudSettings, context: BuildContext) -> PushTarget | None:
    client = shared_client(settings, context)
    if client is None:
        return None
    from certpush.providers.huaweicloud.cdn_adapter import HuaweiCdnTarget

    return HuaweiCdnTarget(
        client, settings.cdn_console_template, enterprise_project_id=settings.cdn_enterprise_project_id
    )


DEFINITION = PushTargetDefinition(
    provider="huaweicloud",
    service=CDN,
    description="the HTTPS configuration of accelerated domains (default: every domain the certificate covers)",
    regions=None,
    settings=HuaweiCloudSettings,
    build=build,
    rules=CDN_RULES,
    attachment=Attachment(
        reference="an accelerated domain name (default: every accelerated domain the certificate covers)"
    ),
    quotas=QUOTAS[CDN],
)
