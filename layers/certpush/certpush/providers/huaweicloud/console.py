"""Links to a certificate in the Huawei Cloud console ("Configure Now"). The console's URLs are not
documented, so they come from configurable templates with ``{region}`` and ``{target_id}``."""

from __future__ import annotations

from string import Formatter
from typing import TYPE_CHECKING, ClassVar

from certpush.errors import ConfigurationError

if TYPE_CHECKING:
    from certpush.providers.huaweicloud.client import HuaweiCloudClient

DEFAULT_WAF_CONSOLE_TEMPLATE = "https://console.huaweicloud.com/waf/?region={region}#/waf/certificate"
DEFAULT_ELB_CONSOLE_TEMPLATE = "https://console.huaweicloud.com/elb/?region={region}#/elb/certificate"
DEFAULT_CDN_CONSOLE_TEMPLATE = "https://console.huaweicloud.com/cdn/#/cdn/domain"

CONSOLE_TEMPLATE_FIELDS = frozenset({"region", "target_id"})


def check_console_template(template: str) -> str:
    """Raises ConfigurationError unless the template only uses ``{region}`` and ``{target_id}``."""
    try:
        fields = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigurationError(f"console template {template!r} is not a format string") from exc
    unknown = fields - CONSOLE_TEMPLATE_FIELDS
    if unknown:
        raise ConfigurationError(f"console template {template!r} uses unknown fields {sorted(unknown)}")
    return template


def render_console_url(template: str, region: str, target_id: str | None = None) -> str:
    return check_console_template(template).format(region=region, target_id=target_id or "")


class ConsoleLinkedTarget:
    """What the Huawei Cloud targets share: their client, an optional enterprise project, and the
    "Configure Now" link from a template (each target class names its default)."""

    default_console_template: ClassVar[str]

    def __init__(
        self,
        client: HuaweiCloudClient,
        console_link_template: str | None = None,
        enterprise_project_id: str | None = None,
    ) -> None:
        self._client = client
        self._console_template = check_console_template(console_link_template or self.default_console_template)
        self._enterprise_project_id = enterprise_project_id

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return render_console_url(self._console_template, region, target_id)
