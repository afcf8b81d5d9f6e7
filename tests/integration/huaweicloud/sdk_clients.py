"""The official SDK clients, pointed at the simulator (no retries of their own, short timeouts)."""

from __future__ import annotations

from typing import Any

from huaweicloudsdkcdn.v2 import CdnClient
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkelb.v3 import ElbClient
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkwaf import v1 as waf_sdk

from certpush_emulators.huaweicloud.simulator import DOMAIN_ID, HuaweiCloudSimulator

REGION = "cn-north-4"


def _config() -> HttpConfig:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 5)
    return config


def _basic(sim: HuaweiCloudSimulator, region: str = REGION) -> BasicCredentials:
    ak, sk = next(iter(sim.credentials.items()))
    return BasicCredentials(ak, sk, sim.project_id(region))


def waf_client(sim: HuaweiCloudSimulator, region: str = REGION) -> Any:
    builder = waf_sdk.WafClient.new_builder().with_credentials(_basic(sim, region)).with_http_config(_config())
    return builder.with_endpoints([sim.url]).build()


def elb_client(sim: HuaweiCloudSimulator, region: str = REGION) -> Any:
    builder = ElbClient.new_builder().with_credentials(_basic(sim, region)).with_http_config(_config())
    return builder.with_endpoints([sim.url]).build()


def iam_client(sim: HuaweiCloudSimulator) -> Any:
    ak, sk = next(iter(sim.credentials.items()))
    credentials = GlobalCredentials(ak, sk, DOMAIN_ID)
    builder = IamClient.new_builder().with_credentials(credentials).with_http_config(_config())
    return builder.with_endpoints([sim.url]).build()


def cdn_client(sim: HuaweiCloudSimulator) -> Any:
    ak, sk = next(iter(sim.credentials.items()))
    builder = CdnClient.new_builder().with_credentials(GlobalCredentials(ak, sk, DOMAIN_ID))
    return builder.with_http_config(_config()).with_endpoints([sim.url]).build()
