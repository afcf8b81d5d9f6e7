"""Attachment references of TargetOptions for Huawei Cloud: ``{region}/{resource_id}``.

WAF: ``region/host_id`` (a cloud-mode protected domain) or ``region/premium/host_id`` (dedicated mode).
ELB: ``region/listener_id``. Each adapter keeps the references of the region it pushes to.
"""

from __future__ import annotations

from collections.abc import Iterable


def references_in_region(references: Iterable[str], region: str) -> list[str]:
    """The part after ``{region}/`` of each reference to ``region``, in order, without duplicates."""
    prefix = f"{region}/"
    found: dict[str, None] = {}
    for reference in references:
        if reference.startswith(prefix) and len(reference) > len(prefix):
            found[reference[len(prefix) :]] = None
    return list(found)
