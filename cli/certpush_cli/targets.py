"""--to / --attach / --attach-default: their help, read from the target registry, and their parsing."""

from __future__ import annotations

import re

import typer

from certpush.logic.policies import merge_targets
from certpush.logic.target_check import region_problem, spec_problem
from certpush.models.domain import GLOBAL_REGION, MAX_REGIONS_PER_SERVICE, TargetOptions, TargetSpec
from certpush.providers.registry import REGISTRY, TargetRegistry

_TARGET = re.compile(r"^(?P<provider>[a-z0-9-]+):(?P<service>[a-z0-9-]+)(=(?P<value>.+))?$")


def to_help(registry: TargetRegistry = REGISTRY) -> str:
    regional = [d.name for d in registry if not d.is_global]
    global_ = [d.name for d in registry if d.is_global]
    text = (
        f"Target as PROVIDER:SERVICE=REGION[,REGION...] ({', '.join(regional)}), e.g. "
        f"{regional[0]}=us-east-1,eu-west-1. Repeat for several services; at most "
        f"{MAX_REGIONS_PER_SERVICE} regions per service."
    )
    if global_:
        text += f" A global service is named alone: {', '.join(global_)}."
    return text


def attach_help(registry: TargetRegistry = REGISTRY) -> str:
    refs = "; ".join(f"{d.name}: {d.attachment.reference}" for d in registry if d.attachment)
    return f"Attach the pushed certificate: PROVIDER:SERVICE=REF. {refs}. Repeatable."


def attach_default_help(registry: TargetRegistry = REGISTRY) -> str:
    refs = "; ".join(f"{d.name}: {d.attachment.default}" for d in registry if d.attachment and d.attachment.default)
    return f"Make it the default certificate instead: PROVIDER:SERVICE=REF. {refs}. Repeatable."


def _split(option: str, value: str, *, needs_value: bool) -> tuple[str, str, str]:
    match = _TARGET.match(value.strip())
    if not match or (needs_value and not match["value"]):
        raise typer.BadParameter(f"'{value}' is not PROVIDER:SERVICE=VALUE (e.g. aws:elb=us-east-1)", param_hint=option)
    return match["provider"], match["service"], match["value"] or ""


def parse_targets(
    to: list[str],
    attach: list[str],
    attach_default: list[str],
    registry: TargetRegistry = REGISTRY,
    *,
    check: bool = True,
) -> list[TargetSpec]:
    """The targets of --to (with their --attach / --attach-default references), checked against the
    registry before anything is written: an unknown provider, service or region, or more regions than
    one push takes, is a usage error (exit 2) that says what was probably meant. ``check=False``: the
    syntax only (``records forget`` names targets certpush does not know)."""
    specs: list[TargetSpec] = []
    for value in to:
        provider, service, regions = _split("--to", value, needs_value=False)
        definition = registry.find(provider, service)
        if not regions:
            if definition is not None and not definition.is_global and check:
                raise typer.BadParameter(
                    f"'{value}' is not PROVIDER:SERVICE=VALUE (e.g. aws:elb=us-east-1)", param_hint="--to"
                )
            regions = GLOBAL_REGION
        names = [r.strip() for r in regions.split(",") if r.strip()]
        if not names:
            raise typer.BadParameter(f"'{value}' names no region", param_hint="--to")
        specs.append(TargetSpec(provider=provider, service=service, regions=names))
    merged = {(s.provider, s.service): s for s in merge_targets(specs)}
    for checked in merged.values() if check else ():
        problem = spec_problem(checked, registry) or next(
            (p for region in checked.regions if (p := region_problem(checked, region, registry))), None
        )
        if problem is not None:
            raise typer.BadParameter(problem.with_hint(), param_hint="--to")
    for option, values, field in (
        ("--attach", attach, "attach"),
        ("--attach-default", attach_default, "attach_default"),
    ):
        for value in values:
            provider, service, ref = _split(option, value, needs_value=True)
            spec = merged.get((provider, service))
            if spec is None:
                raise typer.BadParameter(f"{provider}:{service} is not among the --to targets", param_hint=option)
            definition = registry.find(provider, service)
            attachment = definition.attachment if definition else None
            if definition is not None and (
                attachment is None or (field == "attach_default" and not attachment.default)
            ):
                raise typer.BadParameter(f"{definition.name} has nothing to {option.lstrip('-')} to", param_hint=option)
            options = spec.options.model_dump()
            options[field] = (*options[field], ref)
            merged[(provider, service)] = spec.model_copy(update={"options": TargetOptions(**options)})
    return list(merged.values())
