"""Huawei Cloud ELB (``huaweicloud:elb``): the ELB (v3) certificate store of the region, then
optionally onto HTTPS listeners."""

from __future__ import annotations

from certpush.ports import PushTarget
from certpush.providers.definition import Attachment, BuildContext, PushTargetDefinition
from certpush.providers.huaweicloud.quotas import QUOTAS
from certpush.providers.huaweicloud.regions import ELB, offered_regions
from certpush.providers.huaweicloud.rules import ELB_RULES
from certpush.providers.huaweicloud.shared import HuaweiCloudSettings, shared_client


def build(settings: HuaweiCloudSettings, context: BuildContext) -> PushTarget | None:
    client = shared_client(settings, context)
    if client is None:
        return None
    from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget

    return HuaweiElbTarget(client, settings.elb_console_template)


DEFINITION = PushTargetDefinition(
    provider="huaweicloud",
    service=ELB,
    description="the ELB (v3) certificate store of the region, then optionally onto HTTPS listeners",
    regions=offered_regions(ELB),
    settings=HuaweiCloudSettings,
    build=build,
    rules=ELB_RULES,
    attachment=Attachment(
        reference="REGION/LISTENER_ID, added as an SNI certificate",
        default="makes it the listener's default certificate",
    ),
    quotas=QUOTAS[ELB],
)
