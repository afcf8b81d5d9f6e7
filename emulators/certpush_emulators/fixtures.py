"""What a target needs that the cloud's console creates (a CDN's accelerated domain...), made in an
emulator for the demo and the tests. Each emulator package declares its own in a ``fixtures`` module
(``FIXTURES``); the CLIs register one command per fixture by iterating the emulator packages
(``certpush simulators add-NAME``, ``certpush-dev stack create-NAME``), so a new provider's emulator
brings its fixture commands without a line in either CLI.

Light on purpose: ``certpush --help`` lists these commands, so nothing here imports more than the
standard library until a fixture is made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class FixtureRefused(Exception):
    """The emulator refused what was asked (an invalid name...): the reason and a hint."""


class EmulatorUnreachable(Exception):
    """The emulator does not answer (not started, stopped): the reason and a hint."""


@dataclass(frozen=True)
class Fixture:
    provider: str
    """Whose emulator makes it: the provider's name, which keys the emulator's URL in the CLIs."""
    name: str
    """The command's noun: ``cdn-domain`` -> ``add-cdn-domain`` / ``create-cdn-domain``."""
    summary: str
    """The command's help."""
    argument: str
    """The one argument's metavar, e.g. ``DOMAIN``."""
    argument_help: str
    create: Callable[[str, str], str]
    """(the emulator's base URL, the argument) -> what to print (the new resource's id). Raises
    ``FixtureRefused`` or ``EmulatorUnreachable``."""


def all_fixtures() -> list[Fixture]:
    """The fixtures of every emulator package that declares some, in package order."""
    from certpush_emulators.packages import declared

    return [fixture for module in declared("fixtures") for fixture in module.FIXTURES]
