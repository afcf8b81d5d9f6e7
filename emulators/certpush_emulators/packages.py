"""The emulator packages (one per provider) and what each declares in a module of a given name
(``fixtures``, ``inspection``): how the CLIs and the dev tools find a provider's emulator without a
hand-kept list. Standard library only: ``certpush --help`` runs it."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType


def declared(module: str) -> list[ModuleType]:
    """``certpush_emulators.<provider>.<module>`` of every emulator package that has one, in name order."""
    import certpush_emulators

    found = []
    # by name: ModuleInfo tuples begin with their finder, which does not compare when the path has several folders
    packages = sorted(pkgutil.iter_modules(certpush_emulators.__path__, "certpush_emulators."), key=lambda p: p.name)
    for package in packages:
        if package.ispkg and importlib.util.find_spec(f"{package.name}.{module}") is not None:
            found.append(importlib.import_module(f"{package.name}.{module}"))
    return found
