"""Is a target one certpush pushes to? One answer for the validator (which REJECTs a target it cannot
push to, with a reason) and the command line (which refuses a typo before anything is written, with
what the operator probably meant). Both read the ``TargetCatalog`` (the provider registry)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from certpush.models.domain import GLOBAL_REGION, MAX_REGIONS_PER_SERVICE, RejectReason, TargetSpec
from certpush.ports import TargetCatalog


@dataclass(frozen=True)
class TargetProblem:
    """Why a target cannot be pushed to, and the names the operator may have meant."""

    reason: RejectReason
    message: str
    suggestions: tuple[str, ...] = ()

    def with_hint(self) -> str:
        """The message, and "did you mean" when something close exists."""
        if not self.suggestions:
            return self.message
        return f"{self.message}; did you mean {' or '.join(repr(s) for s in self.suggestions)}?"


def close_matches(word: str, known: Iterable[str], count: int = 2) -> tuple[str, ...]:
    """What ``word`` most likely meant (difflib's ratio of at least 0.6), best first."""
    return tuple(difflib.get_close_matches(word, sorted(known), n=count, cutoff=0.6))


def spec_problem(spec: TargetSpec, catalog: TargetCatalog) -> TargetProblem | None:
    """A problem of the whole spec: an unknown provider or service, too many regions."""
    providers = catalog.providers()
    if spec.provider not in providers:
        return TargetProblem(
            RejectReason.UNKNOWN_PROVIDER,
            f"unknown provider '{spec.provider}' (known: {', '.join(providers)})",
            close_matches(spec.provider, providers),
        )
    target = catalog.find(spec.provider, spec.service)
    if target is None:
        services = catalog.services(spec.provider)
        return TargetProblem(
            RejectReason.UNKNOWN_SERVICE,
            f"{spec.provider} has no service '{spec.service}' that certpush pushes to (known: {', '.join(services)})",
            tuple(f"{spec.provider}:{s}" for s in close_matches(spec.service, services)),
        )
    regions = dict.fromkeys(spec.regions)
    if len(regions) > MAX_REGIONS_PER_SERVICE:
        return TargetProblem(
            RejectReason.TOO_MANY_REGIONS,
            f"{len(regions)} regions for {spec.provider}:{spec.service}; at most {MAX_REGIONS_PER_SERVICE} per "
            "service in one push",
        )
    return None


def region_problem(spec: TargetSpec, region: str, catalog: TargetCatalog) -> TargetProblem | None:
    """Whether the spec's service is offered in ``region`` (``global`` for a global service)."""
    target = catalog.find(spec.provider, spec.service)
    if target is None or target.offered_in(region):
        return None
    name = f"{spec.provider}:{spec.service}"
    if target.is_global:
        message = f"{name} is global: name no region (it is offered in '{GLOBAL_REGION}' only)"
        return TargetProblem(RejectReason.REGION_NOT_OFFERED, message, (name,))
    if region == GLOBAL_REGION:
        return TargetProblem(RejectReason.REGION_NOT_OFFERED, f"{name} is offered per region: name the regions")
    offered = target.regions or frozenset()
    return TargetProblem(
        RejectReason.REGION_NOT_OFFERED,
        f"{name} is not offered in region '{region}'",
        close_matches(region, offered),
    )


def target_problem(spec: TargetSpec, region: str, catalog: TargetCatalog) -> TargetProblem | None:
    """The first problem of one target of the spec, or None: it can be pushed to."""
    return spec_problem(spec, catalog) or region_problem(spec, region, catalog)
