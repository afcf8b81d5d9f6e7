"""Settings of the Huawei Cloud targets. Importing this loads no HTTP client (the validator and the
CLI need the settings and the region tables, not httpx)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from pydantic import Field, field_validator

from certpush.errors import ConfigurationError
from certpush.providers.definition import TargetSettings
from certpush.providers.huaweicloud.console import (
    DEFAULT_CDN_CONSOLE_TEMPLATE,
    DEFAULT_ELB_CONSOLE_TEMPLATE,
    DEFAULT_WAF_CONSOLE_TEMPLATE,
    check_console_template,
)
from certpush.providers.huaweicloud.regions import Site, check_endpoint_template

DEFAULT_TIMEOUT_SECONDS = 10.0


class HuaweiCloudSettings(TargetSettings):
    """Configuration of the Huawei Cloud targets (``HUAWEICLOUD_*``), shared by every Huawei Cloud
    service, parsed once at the edge."""

    ENV_PREFIX: ClassVar[str] = "HUAWEICLOUD_"
    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {"HuaweiCloudCredentialsSecretId": "credentials_secret_id"}

    credentials_secret_id: str | None = None
    endpoint_template: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:8765 for the local simulator; may use {service}, {region}"
    )
    project_ids: dict[str, str] = Field(default_factory=dict, description="region -> project id; else asked of IAM")
    waf_console_template: str = DEFAULT_WAF_CONSOLE_TEMPLATE
    elb_console_template: str = DEFAULT_ELB_CONSOLE_TEMPLATE
    cdn_console_template: str = DEFAULT_CDN_CONSOLE_TEMPLATE
    waf_enterprise_project_id: str | None = None
    cdn_enterprise_project_id: str | None = Field(
        default=None,
        description="the enterprise project of the accelerated domains; required when the keys are an IAM user's",
    )
    site: Site = Field(
        default="com",
        description="the account's site: com (huaweicloud.com) or eu (huaweicloud.eu): where CDN and IAM answer",
    )
    domain_id: str | None = Field(
        default=None, description="the account id CDN calls name (X-Domain-Id); else asked of IAM once"
    )
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=60)

    @field_validator("endpoint_template")
    @classmethod
    def _endpoint_template(cls, value: str | None) -> str | None:
        return None if value is None else _as_value_error(check_endpoint_template, value)

    @field_validator("waf_console_template", "elb_console_template", "cdn_console_template")
    @classmethod
    def _console_template(cls, value: str) -> str:
        return _as_value_error(check_console_template, value)


def _as_value_error(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from exc
