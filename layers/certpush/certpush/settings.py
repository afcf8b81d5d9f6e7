"""Settings, parsed once at the edge (a handler's cold start, or the CLI) into one model.
The domain receives these values as arguments and never reads ``os.environ``."""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from certpush.adapters.huaweicloud.settings import HuaweiCloudSettings
from certpush.errors import ConfigurationError

DEFAULT_AWS_ELB_CONSOLE = "https://{region}.console.aws.amazon.com/ec2/home?region={region}#LoadBalancers:"


class Settings(BaseModel):
    """Environment of the functions (see template.yaml ``Globals``) and of the CLI."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    records_table: str = Field(alias="RECORDS_TABLE")
    inventory_table: str = Field(alias="INVENTORY_TABLE")
    idempotency_table: str | None = Field(default=None, alias="IDEMPOTENCY_TABLE")
    push_queue_url: str = Field(alias="PUSH_QUEUE_URL")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    notify_topic_arn: str | None = Field(default=None, alias="NOTIFY_TOPIC_ARN")
    certificate_kms_key_id: str | None = Field(default=None, alias="CERTIFICATE_KMS_KEY_ID")
    secrets_prefix: str = Field(default="certpush/certificates", alias="SECRETS_PREFIX")
    max_attempts: int = Field(default=5, ge=1, le=50, alias="PUSH_MAX_ATTEMPTS")
    retry_base_seconds: int = Field(default=10, ge=0, le=900, alias="RETRY_BASE_SECONDS")
    retry_max_seconds: int = Field(default=900, ge=0, le=43200, alias="RETRY_MAX_SECONDS")
    stuck_after_seconds: int = Field(default=1800, ge=1, le=86400, alias="STUCK_AFTER_SECONDS")
    stuck_max_sweeps: int = Field(default=3, ge=1, le=50, alias="STUCK_MAX_SWEEPS")
    material_cache_seconds: int = Field(default=300, ge=0, alias="MATERIAL_CACHE_SECONDS")
    aws_elb_console_template: str = Field(default=DEFAULT_AWS_ELB_CONSOLE, alias="AWS_ELB_CONSOLE_TEMPLATE")
    huaweicloud: HuaweiCloudSettings = HuaweiCloudSettings()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Reads our variables; the HUAWEICLOUD_* ones go to the Huawei Cloud settings."""
        data: dict[str, object] = dict(environ)
        fields = HuaweiCloudSettings.model_fields
        huawei: dict[str, object] = {
            key.removeprefix("HUAWEICLOUD_").lower(): value
            for key, value in environ.items()
            if key.startswith("HUAWEICLOUD_") and value != "" and key.removeprefix("HUAWEICLOUD_").lower() in fields
        }
        try:
            if isinstance(huawei.get("project_ids"), str):
                huawei["project_ids"] = json.loads(str(huawei["project_ids"]))
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"HUAWEICLOUD_PROJECT_IDS is not a JSON object: {exc}") from exc
        try:
            data["huaweicloud"] = HuaweiCloudSettings.model_validate(huawei)
        except ValidationError as exc:
            invalid = _variables(exc, "HUAWEICLOUD_")
            raise ConfigurationError(f"certpush settings are missing or invalid: {invalid}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigurationError(f"certpush settings are missing or invalid: {_variables(exc)}") from exc


def _variables(exc: ValidationError, prefix: str = "") -> str:
    """The environment variables at fault, as the user spells them, with the reason when one was set."""
    return ", ".join(
        f"{prefix}{str(err['loc'][0]).upper()}" + ("" if err["type"] == "missing" else f" ({err['msg']})")
        for err in exc.errors()
    )
