"""How a provider's emulator runs, declared by its package in a ``process`` module (``PROCESS``), so that
what starts emulators finds them by iterating the emulator packages (``certpush_emulators.packages``):
the one-machine host's simulated home (``certpush serve --simulate``: one background process per
provider, ``certpush_cli.host.simulators``) and the embedded stack (``certpush-dev stack up``: in its
own process, ``certpush_dev.local.stack``). A new provider's emulator brings its ``process.py``; neither
needs a line.

The protocol of the background process: ``python -m MODULE ARGUMENTS...`` prints ``listening URL`` (or
``listening HOST PORT``) on one line of standard output once it listens, and serves until SIGTERM.

Light on purpose, as ``fixtures``: standard library only until an emulator starts."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


class RunningEmulator(Protocol):
    """An emulator started in this process (the embedded stack's)."""

    url: str

    def stop(self) -> None: ...


def _no_credentials() -> dict[str, str]:
    return {}


def _nothing(url: str) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class EmulatorProcess:
    provider: str
    """The provider it emulates (the name of its package in ``certpush/providers/``)."""
    title: str
    """What messages call it, e.g. ``Huawei Cloud simulator``."""
    module: str
    """``python -m MODULE`` runs it in a process of its own."""
    arguments: Callable[[Mapping[str, str]], list[str]]
    """The arguments of that process, given the credentials it accepts."""
    environment: Callable[[str], dict[str, str]]
    """Its URL -> the variables that point the provider's targets (or its SDK) at it instead of the cloud."""
    make_credentials: Callable[[], dict[str, str]] = _no_credentials
    """Fresh credentials it will accept, as the provider's secret holds them (``CREDENTIALS`` of the provider
    package): the targets get them as that secret. None needed (moto takes any): ``{}``."""
    requires: str | None = None
    """A module it needs that may not be installed (``moto``: the ``simulate`` extra)."""
    missing: str = ""
    """Why its targets are not simulated when ``requires`` is not installed, with a hint."""
    in_process: Callable[[int, Mapping[str, str]], RunningEmulator] | None = None
    """(port, credentials) -> the emulator started in this process, for the embedded stack; None: the
    embedded stack has its own (AWS is the platform it emulates)."""
    template_parameters: Callable[[str], dict[str, str]] = _nothing
    """Its URL -> the template.yaml parameters that point the deployed targets at it (the embedded stack)."""
    port_option: str = ""
    """``certpush-dev stack up``'s option for its port, e.g. ``--huawei-port``."""
    port_variable: str = ""
    """The environment variable that gives that port."""
    default_port: int = 0

    def installed(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


def all_processes() -> list[EmulatorProcess]:
    """The process declaration of every emulator package that has one, in package order."""
    from certpush_emulators.packages import declared

    return [module.PROCESS for module in declared("process")]
