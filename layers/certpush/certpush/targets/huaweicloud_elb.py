"""Huawei Cloud ELB (``huaweicloud:elb``): the ELB (v3) certificate store of the region, then
optionally onto HTTPS listeners."""

from __future__ import annotations

from certpush.adapters.huaweicloud.regions import ELB, offered_regions
from certpush.ports import PushTarget
from certpush.targets.definition import Attachment, BuildContext, PushTargetDefinition
from certpush.targets.huaweicloud import HuaweiCloudSettings, shared_client


def build(settings: HuaweiCloudSettings, context: BuildContext) -> PushTarget | None:
    client = shared_client(settings, context)
    if client is None:
        return None
    from certpush.adapters.huaweicloud.elb import HuaweiElbTarget

    return HuaweiElbTarget(client, settings.elb_console_template)


DEFINITION = PushTargetDefinition(
    provider="huaweicloud",
    service=ELB,
    description="the ELB (v3) certificate store of the region, then optionally onto HTTPS listeners",
    regions=offered_regions(ELB),
    settings=HuaweiCloudSettings,
    build=build,
    attachment=Attachment(
        reference="REGION/LISTENER_ID, added as an SNI certificate",
        default="makes it the listener's default certificate",
    ),
)
