"""Push policies: which targets an issued certificate goes to when its event names none."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from certpush.models.domain import CertificateVersion, PushPolicy, TargetOptions, TargetSpec


def policy_matches(policy: PushPolicy, certificate: CertificateVersion) -> bool:
    """``*.example.com`` matches a certificate for ``*.example.com`` as well as ``www.example.com``."""
    pattern = policy.pattern.lower()
    names = {certificate.common_name.lower(), *(san.lower() for san in certificate.sans)}
    return any(fnmatchcase(name, pattern) or name == pattern for name in names)


def merge_targets(specs: Iterable[TargetSpec]) -> list[TargetSpec]:
    """One spec per (provider, service): regions and attachments united, first-seen order kept."""
    merged: dict[tuple[str, str], TargetSpec] = {}
    for spec in specs:
        key = (spec.provider, spec.service)
        known = merged.get(key) or TargetSpec(provider=spec.provider, service=spec.service, regions=spec.regions)
        regions = list(dict.fromkeys([*known.regions, *spec.regions]))
        options = TargetOptions(
            attach=tuple(dict.fromkeys([*known.options.attach, *spec.options.attach])),
            attach_default=tuple(dict.fromkeys([*known.options.attach_default, *spec.options.attach_default])),
        )
        merged[key] = TargetSpec(provider=spec.provider, service=spec.service, regions=regions, options=options)
    return list(merged.values())


def targets_from_policies(policies: Iterable[PushPolicy], certificate: CertificateVersion) -> list[TargetSpec]:
    chosen = [spec for p in policies if p.enabled and policy_matches(p, certificate) for spec in p.targets]
    return merge_targets(chosen)
