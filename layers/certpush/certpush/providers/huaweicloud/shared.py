"""What the Huawei Cloud targets share: their settings and one signed HTTP client per deployment
(project ids discovered through IAM are cached in it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from certpush.providers.definition import BuildContext
from certpush.providers.huaweicloud.settings import HuaweiCloudSettings

if TYPE_CHECKING:
    from certpush.providers.huaweicloud.client import HuaweiCloudClient

__all__ = ["HuaweiCloudSettings", "shared_client"]


def shared_client(settings: HuaweiCloudSettings, context: BuildContext) -> HuaweiCloudClient | None:
    """The client every Huawei Cloud target of this context uses; None without credentials."""
    secret_id = settings.credentials_secret_id
    if not secret_id:
        return None
    from certpush.providers.huaweicloud.client import HuaweiCloudClient, load_credentials

    def make() -> HuaweiCloudClient:
        if context.instrument is not None:
            context.instrument("httpx")
        return HuaweiCloudClient(
            lambda: load_credentials(secret_id, context.fetch_secret),
            reload_credentials=lambda: load_credentials(secret_id, context.fetch_fresh_secret or context.fetch_secret),
            endpoint_template=settings.endpoint_template,
            project_ids=settings.project_ids,
            timeout_seconds=settings.timeout_seconds,
            domain_id=settings.domain_id,
            site=settings.site,
            rate_limiter=context.rate_limiter,
        )

    client: HuaweiCloudClient = context.shared(("huaweicloud", id(settings)), make)
    return client
