"""One command per emulator fixture (``certpush_emulators.fixtures``), for the CLI that runs the
emulators: ``certpush simulators add-NAME`` on a home, ``certpush-dev stack create-NAME`` on the embedded
stack. Each CLI says where a provider's emulator listens; the fixture makes the thing there."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from certpush_cli.exit_codes import user_errors
from certpush_cli.output import out
from certpush_emulators.fixtures import all_fixtures


def register_fixture_commands(
    group: typer.Typer, verb: str, where: inspect.Parameter, url_of: Callable[[str, Any], str]
) -> None:
    """``verb-NAME FIXTURE_ARGUMENT [where]`` in ``group`` for every fixture: ``where`` is the option that
    says which emulators (``--home``, ``--state-dir``), ``url_of(provider, its value)`` the emulator's URL."""
    for fixture in all_fixtures():
        argument = inspect.Parameter(
            "value",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[str, typer.Argument(help=fixture.argument_help, metavar=fixture.argument)],
        )

        def command(value: str, _make: Callable[[str, str], str] = fixture.create, _provider: str = fixture.provider,
                    **options: Any) -> None:  # fmt: skip
            with user_errors():
                out.print(_make(url_of(_provider, options[where.name]), value))

        command.__signature__ = inspect.Signature([argument, where])  # type: ignore[attr-defined]
        command.__annotations__ = {"value": argument.annotation, where.name: where.annotation, "return": None}
        command.__doc__ = fixture.summary
        group.command(f"{verb}-{fixture.name}")(command)
