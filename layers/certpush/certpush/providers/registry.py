"""The push targets certpush knows: one line per provider package.

Adding a service to a provider: a module with a ``DEFINITION`` in ``certpush/providers/<provider>/``,
named in that package's ``DEFINITIONS``. Adding a provider: its package and one line in ``PROVIDERS``.
Validation, wiring, settings, the CLI's help and inspection follow."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from certpush.logic.hints import REASON_HINTS
from certpush.logic.rate_limits import Quota
from certpush.providers import aws, huaweicloud
from certpush.providers.definition import PushTargetDefinition, TargetSettings

PROVIDERS = (
    aws,
    huaweicloud,
)

DEFINITIONS: tuple[PushTargetDefinition[Any], ...] = tuple(d for provider in PROVIDERS for d in provider.DEFINITIONS)


class TargetRegistry:
    """Looks targets up by provider and service. Implements the domain's ``TargetCatalog`` port."""

    def __init__(self, definitions: Sequence[PushTargetDefinition[Any]]) -> None:
        self._by_key = {(d.provider, d.service): d for d in definitions}
        if len(self._by_key) != len(definitions):
            raise ValueError("two push target modules declare the same provider and service")

    def __iter__(self) -> Iterator[PushTargetDefinition[Any]]:
        return iter(self._by_key.values())

    def find(self, provider: str, service: str) -> PushTargetDefinition[Any] | None:
        return self._by_key.get((provider, service))

    def providers(self) -> list[str]:
        return sorted({provider for provider, _ in self._by_key})

    def services(self, provider: str) -> list[str]:
        return sorted(service for known, service in self._by_key if known == provider)

    def quotas(self) -> list[tuple[str, Quota]]:
        """Every target's declared quotas (targets that call the same API declare the same quota)."""
        return [item for d in self for item in d.quotas.items()]

    def settings_classes(self) -> list[type[TargetSettings]]:
        """Each settings class once, in registry order (several targets may share one)."""
        return list(dict.fromkeys(d.settings for d in self))


REGISTRY = TargetRegistry(DEFINITIONS)
_PROVIDER_HINTS = {provider.__name__.rsplit(".", 1)[-1]: provider.HINTS for provider in PROVIDERS}


def hint_for(provider: str, reason: str | None) -> str | None:
    """What to do about a record's reason: the provider's own codes first, then certpush's."""
    if not reason:
        return None
    return _PROVIDER_HINTS.get(provider, {}).get(reason) or REASON_HINTS.get(reason)
