"""`certpush policies add|list|remove`: a domain pattern and the targets its certificates go to automatically."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from certpush_cli.exit_codes import Failure, user_errors
from certpush_cli.options import AttachDefaultOption, AttachOption, HomeOption, StackOption, ToOption
from certpush_cli.output import out

app = typer.Typer(
    help="Push policies: a domain pattern and the targets its certificates go to automatically.",
    no_args_is_help=True,
)


@app.command("add")
def policies_add(
    name: Annotated[str, typer.Argument(help="Policy name: lowercase letters, digits and '-'.")],
    pattern: Annotated[str, typer.Option(help="Domain pattern, e.g. '*.example.com' or 'shop.example.com'.")],
    to: ToOption,
    attach: AttachOption = None,
    attach_default: AttachDefaultOption = None,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Add or replace a policy: certificates whose names match PATTERN are pushed to these targets.
    A target certpush does not know is a usage error: nothing is stored."""
    from pydantic import ValidationError

    from certpush.models.domain import PushPolicy
    from certpush_cli.backends import backend
    from certpush_cli.exit_codes import validation_summary
    from certpush_cli.targets import parse_targets

    with user_errors():
        targets = parse_targets(to, attach or [], attach_default or [])
        try:
            policy = PushPolicy(name=name, pattern=pattern, targets=targets)
        except ValidationError as exc:
            raise Failure(f"invalid policy: {validation_summary(exc)}; see certpush policies add --help") from exc
        with backend(stack, home) as chosen:
            chosen.policies.put_policy(policy)
        out.print(f"policy {name}: {pattern} -> " + "; ".join(
            f"{t.provider}:{t.service}={','.join(t.regions)}" for t in policy.targets))  # fmt: skip


@app.command("list")
def policies_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, stack: StackOption = None, home: HomeOption = None
) -> None:
    """Every push policy."""
    from certpush_cli.backends import backend

    with user_errors(), backend(stack, home) as chosen:
        found = chosen.policies.list_policies()
        if as_json:
            out.print_json(json.dumps([p.model_dump(mode="json") for p in found]))
            return
        for p in found:
            targets = "; ".join(f"{t.provider}:{t.service}={','.join(t.regions)}" for t in p.targets)
            out.print(f"{p.name:<24} {p.pattern:<32} {targets}")


@app.command("remove")
def policies_remove(name: Annotated[str, typer.Argument()], stack: StackOption = None, home: HomeOption = None) -> None:
    """Remove a policy."""
    from certpush_cli.backends import backend

    with user_errors(), backend(stack, home) as chosen:
        if not chosen.policies.delete_policy(name):
            raise Failure(f"no policy named {name}")
        out.print(f"policy {name} removed")
