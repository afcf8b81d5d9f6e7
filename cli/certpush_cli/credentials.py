"""The credentials each provider package declares (``CREDENTIALS``, ``certpush.providers.credentials``), by
provider: what `certpush credentials`, the host's secrets and the embedded stack's seeded secret read. (Only
they need it: the Lambda functions read the secret their settings name.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from certpush.providers import registry
from certpush.providers.credentials import ProviderCredentials


def provider_credentials(providers: Sequence[Any] | None = None) -> dict[str, ProviderCredentials]:
    """By provider name, in ``PROVIDERS`` order (read when called); a provider whose SDK finds its own (AWS)
    declares none."""
    return {
        package.__name__.rsplit(".", 1)[-1]: package.CREDENTIALS
        for package in (registry.PROVIDERS if providers is None else providers)
        if getattr(package, "CREDENTIALS", None) is not None
    }
