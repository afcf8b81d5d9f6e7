"""Settings, parsed once at the edge (a handler's cold start, or the CLI) into one model.
The domain receives these values as arguments and never reads ``os.environ``.

Each push target declares its own settings class (``certpush/targets/``); they are read here from
the registry, so this module names no target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from certpush.environment import EnvironmentModel, parse_environment
from certpush.logic.rate_limits import checked_rate_limits

if TYPE_CHECKING:  # the registry loads every provider's definitions: only the functions that push read it
    from certpush.providers.definition import TargetSettings
    from certpush.providers.registry import TargetRegistry

S = TypeVar("S", bound="TargetSettings")


class Settings(EnvironmentModel):
    """Environment of the functions (see template.yaml ``Globals``) and of the CLI, each field read
    from the variable its alias names (``certpush.environment``)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    records_table: str = Field(alias="RECORDS_TABLE")
    inventory_table: str = Field(alias="INVENTORY_TABLE")
    push_queue_url: str = Field(alias="PUSH_QUEUE_URL")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    notify_topic_arn: str | None = Field(default=None, alias="NOTIFY_TOPIC_ARN")
    certificate_kms_key_id: str | None = Field(default=None, alias="CERTIFICATE_KMS_KEY_ID")
    secrets_prefix: str = Field(default="certpush/certificates", alias="SECRETS_PREFIX")
    max_attempts: int = Field(default=5, ge=1, le=50, alias="PUSH_MAX_ATTEMPTS")
    retry_base_seconds: int = Field(default=10, ge=0, le=900, alias="RETRY_BASE_SECONDS")
    retry_max_seconds: int = Field(default=900, ge=0, le=43200, alias="RETRY_MAX_SECONDS")
    # after an ambiguous error (a timeout after the request was sent), wait at least this long before the
    # retry looks for what the request may have made: above every target client's timeout
    push_settle_seconds: int = Field(default=30, ge=0, le=900, alias="PUSH_SETTLE_SECONDS")
    push_concurrency: int = Field(default=10, ge=1, le=100, alias="PUSH_CONCURRENCY")
    push_time_budget_seconds: int = Field(default=30, ge=1, le=900, alias="PUSH_TIME_BUDGET_SECONDS")
    # how long a push worker holds a push (longer than the function's Timeout, shorter than the
    # queue's VisibilityTimeout: a crashed push is taken up again by the message's next delivery)
    push_lease_seconds: int = Field(default=90, ge=1, le=3600, alias="PUSH_LEASE_SECONDS")
    stuck_after_seconds: int = Field(default=1800, ge=1, le=86400, alias="STUCK_AFTER_SECONDS")
    stuck_max_sweeps: int = Field(default=3, ge=1, le=50, alias="STUCK_MAX_SWEEPS")
    material_cache_seconds: int = Field(default=300, ge=0, alias="MATERIAL_CACHE_SECONDS")
    expiry_warning_days: int = Field(default=30, ge=1, le=365, alias="EXPIRY_WARNING_DAYS")
    # signs the records API's cursors (certpush.logic.cursors); none: a random key per process
    records_api_cursor_key: SecretStr | None = Field(default=None, min_length=32, alias="RECORDS_API_CURSOR_KEY")
    # the targets' request quotas, overridden: {"aws:acm:ImportCertificate": "2/1s", "huaweicloud:waf": "none"}
    rate_limits: dict[str, str] = Field(default_factory=dict, alias="RATE_LIMITS")
    # how many push worker environments may run at once (the push queue's MaximumConcurrency): each paces
    # its calls under its share of every quota (certpush.wiring.rate_limiter)
    push_environments: int = Field(default=1, ge=1, le=1000, alias="PUSH_WORKER_MAX_CONCURRENCY")
    _targets: dict[str, TargetSettings] = PrivateAttr(default_factory=dict)
    """Settings of the push targets, by settings class name."""

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _known_quotas(cls, value: object) -> object:
        return checked_rate_limits(value)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], registry: TargetRegistry | None = None) -> Settings:
        """Reads our variables, and each target's (e.g. ``HUAWEICLOUD_*``) into its settings class."""
        if registry is None:
            from certpush.providers.registry import REGISTRY

            registry = REGISTRY
        targets = {kind.__name__: kind.from_env(environ) for kind in registry.settings_classes()}
        settings = parse_environment(cls, environ)
        settings._targets = targets
        return settings

    @classmethod
    def without_targets(cls, environ: Mapping[str, str]) -> Settings:
        """Our variables only, for a function that pushes nothing (it loads no target definition)."""
        return parse_environment(cls, environ)

    def target_settings(self, kind: type[S]) -> S:
        """The settings of the targets that use ``kind`` (its defaults when none were read)."""
        found = self._targets.get(kind.__name__)
        return found if isinstance(found, kind) else kind.model_validate({})
