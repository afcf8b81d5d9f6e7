"""Builds the WAF and ELB push targets from their settings (one shared client)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from certpush.adapters.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.adapters.huaweicloud.elb import HuaweiElbTarget
from certpush.adapters.huaweicloud.settings import HuaweiCloudSettings
from certpush.adapters.huaweicloud.waf import HuaweiWafTarget
from certpush.ports import Clock, PushTarget


def build_huaweicloud_targets(
    settings: HuaweiCloudSettings,
    credentials_loader: Callable[[], HuaweiCloudCredentials],
    http_client: httpx.Client | None = None,
    clock: Clock | None = None,
) -> list[PushTarget]:
    """The WAF and ELB targets, sharing one client. Credentials are loaded on the first push."""
    client = HuaweiCloudClient(
        credentials_loader,
        http_client=http_client,
        endpoint_template=settings.endpoint_template,
        project_ids=settings.project_ids,
        timeout_seconds=settings.timeout_seconds,
        clock=clock,
    )
    return [
        HuaweiWafTarget(
            client, settings.waf_console_template, enterprise_project_id=settings.waf_enterprise_project_id
        ),
        HuaweiElbTarget(client, settings.elb_console_template),
    ]
