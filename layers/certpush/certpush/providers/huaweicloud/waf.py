"""Huawei Cloud WAF (``huaweicloud:waf``): the WAF certificate store of the region, then optionally
onto protected hosts (cloud or dedicated mode)."""

from __future__ import annotations

from certpush.ports import PushTarget
from certpush.providers.definition import Attachment, BuildContext, PushTargetDefinition
from certpush.providers.huaweicloud.quotas import QUOTAS
from certpush.providers.huaweicloud.regions import WAF, offered_regions
from certpush.providers.huaweicloud.rules import WAF_RULES
from certpush.providers.huaweicloud.shared import HuaweiCloudSettings, shared_client


def build(settings: HuaweiCloudSettings, context: BuildContext) -> PushTarget | None:
    client = shared_client(settings, context)
    if client is None:
        return None
    from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget

    return HuaweiWafTarget(
        client, settings.waf_console_template, enterprise_project_id=settings.waf_enterprise_project_id
    )


DEFINITION = PushTargetDefinition(
    provider="huaweicloud",
    service=WAF,
    description="the WAF certificate store of the region, then optionally onto protected hosts",
    regions=offered_regions(WAF),
    settings=HuaweiCloudSettings,
    build=build,
    rules=WAF_RULES,
    attachment=Attachment(reference="REGION/HOST_ID, or REGION/premium/HOST_ID for dedicated mode"),
    quotas=QUOTAS[WAF],
)
