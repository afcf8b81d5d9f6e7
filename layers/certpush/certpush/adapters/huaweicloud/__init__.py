"""Huawei Cloud WAF and ELB push targets.

The edge builds them once from ``HuaweiCloudSettings``::

    targets = build_huaweicloud_targets(settings, credentials_loader=lambda: load_credentials(secret_id, fetch))
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from certpush.adapters.huaweicloud.client import (
    DEFAULT_TIMEOUT_SECONDS,
    HuaweiCloudClient,
    HuaweiCloudCredentials,
    load_credentials,
)
from certpush.adapters.huaweicloud.console import (
    DEFAULT_ELB_CONSOLE_TEMPLATE,
    DEFAULT_WAF_CONSOLE_TEMPLATE,
    check_console_template,
)
from certpush.adapters.huaweicloud.elb import HuaweiElbTarget
from certpush.adapters.huaweicloud.regions import check_endpoint_template, endpoint_for, offered_regions
from certpush.adapters.huaweicloud.signer import HuaweiSigner
from certpush.adapters.huaweicloud.waf import HuaweiWafTarget
from certpush.errors import ConfigurationError
from certpush.ports import Clock, PushTarget

__all__ = [
    "HuaweiCloudClient",
    "HuaweiCloudCredentials",
    "HuaweiCloudSettings",
    "HuaweiElbTarget",
    "HuaweiSigner",
    "HuaweiWafTarget",
    "build_huaweicloud_targets",
    "endpoint_for",
    "load_credentials",
    "offered_regions",
]


class HuaweiCloudSettings(BaseModel):
    """Configuration of the Huawei Cloud targets, parsed once at the edge."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    credentials_secret_id: str | None = None
    endpoint_template: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:8765/{service}/{region} for the local simulator"
    )
    project_ids: dict[str, str] = Field(default_factory=dict, description="region -> project id; else asked of IAM")
    waf_console_template: str = DEFAULT_WAF_CONSOLE_TEMPLATE
    elb_console_template: str = DEFAULT_ELB_CONSOLE_TEMPLATE
    waf_enterprise_project_id: str | None = None
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=60)

    @field_validator("endpoint_template")
    @classmethod
    def _endpoint_template(cls, value: str | None) -> str | None:
        return None if value is None else _as_value_error(check_endpoint_template, value)

    @field_validator("waf_console_template", "elb_console_template")
    @classmethod
    def _console_template(cls, value: str) -> str:
        return _as_value_error(check_console_template, value)


def _as_value_error(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from exc


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
