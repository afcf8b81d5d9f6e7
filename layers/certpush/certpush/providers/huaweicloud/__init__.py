"""Huawei Cloud: WAF, ELB (v3) and CDN, signed with AK/SK (``signer.py``) through one client
(``client.py``), with the region tables of each service (``regions.py``). ``DEFINITIONS`` are its
push targets; each service module builds its adapter (``*_adapter.py``) lazily."""

from __future__ import annotations

from typing import Any

from certpush.providers.credentials import CredentialField, ProviderCredentials
from certpush.providers.definition import PushTargetDefinition
from certpush.providers.huaweicloud import cdn, elb, waf
from certpush.providers.huaweicloud.hints import HINTS
from certpush.providers.huaweicloud.settings import HuaweiCloudSettings

DEFINITIONS: tuple[PushTargetDefinition[Any], ...] = (waf.DEFINITION, elb.DEFINITION, cdn.DEFINITION)

# the AK/SK (and a temporary one's security token) the signer uses (client.py reads these keys)
CREDENTIALS = ProviderCredentials(
    title="Huawei Cloud",
    settings=HuaweiCloudSettings,
    named_by="credentials_secret_id",
    fields=(
        CredentialField("access_key", "Huawei Cloud access key (AK)", "HUAWEICLOUD_ACCESS_KEY", secret=False),
        CredentialField("secret_key", "Huawei Cloud secret key (SK)", "HUAWEICLOUD_SECRET_KEY", secret=True),
        CredentialField("security_token", "security token", "HUAWEICLOUD_SECURITY_TOKEN", secret=True, stored=False),
    ),
)

__all__ = ["CREDENTIALS", "DEFINITIONS", "HINTS"]
