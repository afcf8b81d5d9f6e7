"""Huawei Cloud WAF (``huaweicloud:waf``): the WAF certificate store of the region, then optionally
onto protected hosts (cloud or dedicated mode)."""

from __future__ import annotations

from certpush.adapters.huaweicloud.regions import WAF, offered_regions
from certpush.ports import PushTarget
from certpush.targets.definition import Attachment, BuildContext, PushTargetDefinition
from certpush.targets.huaweicloud import HuaweiCloudSettings, shared_client


def build(settings: HuaweiCloudSettings, context: BuildContext) -> PushTarget | None:
    client = shared_client(settings, context)
    if client is None:
        return None
    from certpush.adapters.huaweicloud.waf import HuaweiWafTarget

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
    attachment=Attachment(reference="REGION/HOST_ID, or REGION/premium/HOST_ID for dedicated mode"),
)
