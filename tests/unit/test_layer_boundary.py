"""The Lambda functions must run on the layer alone: nothing they import may need the CLI's or the
embedded stack's dependencies, which the layer does not ship."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.conftest import run_handler_code

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CLI_ONLY = ["typer", "rich", "moto", "yaml", "certpush_dev"]

IMPORT_WITHOUT_CLI = """
import importlib.abc, importlib.util, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in {blocked!r}):
            raise ImportError(f"{{name}} is not in the Lambda layer")
        return None

sys.meta_path.insert(0, Refuse())
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
"""


@pytest.mark.parametrize("function", ["validator", "push_worker", "notifier", "records_api", "expiry_warning"])
def test_each_handler_imports_without_the_cli_dependencies(function: str) -> None:
    code = IMPORT_WITHOUT_CLI.format(blocked=CLI_ONLY, path=str(ROOT / "functions" / function / "app.py"))
    env = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)

    assert result.returncode == 0, result.stderr


def test_the_layer_requirements_hold_no_cli_dependency() -> None:
    pinned = (ROOT / "layers" / "certpush" / "requirements.txt").read_text().lower().splitlines()
    names = {line.split("==")[0].strip().replace("_", "-") for line in pinned if line and not line.startswith("#")}
    assert "aws-lambda-powertools" in names and "httpx" in names and "cryptography" in names
    assert not names & {"typer", "rich", "moto", "pyyaml", "click"}


IMPORT_EVERY_MODULE_WITHOUT_CLI = """
import importlib, importlib.abc, pkgutil, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in {blocked!r}):
            raise ImportError(f"{{name}} is not in the Lambda layer")
        return None

sys.meta_path.insert(0, Refuse())
sys.path.insert(0, {layer!r})
import certpush
names = [m.name for m in pkgutil.walk_packages(certpush.__path__, "certpush.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_module_of_the_runtime_package_imports_without_the_cli_dependencies() -> None:
    """What the layer ships is the whole certpush package: none of its modules (not only those a
    handler happens to import today) may need a dev-only package."""
    layer = str(ROOT / "layers" / "certpush")
    code = IMPORT_EVERY_MODULE_WITHOUT_CLI.format(blocked=CLI_ONLY, layer=layer)
    env = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)

    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 30, "walked the whole package"


def test_a_dev_only_import_in_the_runtime_package_is_caught(tmp_path: Path) -> None:
    """The walk above fails when a runtime module imports a dev-only package."""
    package = tmp_path / "certpush"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sneaky.py").write_text("import rich\n")
    code = IMPORT_EVERY_MODULE_WITHOUT_CLI.format(blocked=CLI_ONLY, layer=str(tmp_path))
    env = {"PATH": "/usr/bin:/bin"}

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)

    assert result.returncode != 0
    assert "rich is not in the Lambda layer" in result.stderr


LOADED_AFTER_FIRST_USE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
getattr(module, {builder!r})()  # what the first invocation builds
print(" ".join(sorted(sys.modules)))
"""

# what each function does not run, so its cold start must not load it (the Tracer patches only
# what the function calls, and wiring imports what each builder needs)
# no handler reads a .env file or a command line: pydantic-settings' sources for them stay out (issue 22)
NO_SETTINGS_SOURCES = ["pydantic_settings", "dotenv", "argparse"]
NOT_RUN = {
    # (not cryptography itself: botocore loads it through urllib3 where pyOpenSSL is installed, as here)
    ("notifier", "_consumer"): [
        "httpx",
        "certpush.logic.validation",
        "certpush.logic.x509_checks",
        "certpush.adapters.certificate_store",
        "certpush.providers.huaweicloud.client",
        "certpush.providers.registry",  # it pushes nothing: no target's definition nor settings
        *NO_SETTINGS_SOURCES,
    ],
    ("validator", "_validator"): [
        "httpx",
        "certpush.logic.push",
        "aws_lambda_powertools.utilities.batch",
        *NO_SETTINGS_SOURCES,
    ],
    ("push_worker", "_consumer"): NO_SETTINGS_SOURCES,
}


@pytest.mark.parametrize(("function", "builder"), list(NOT_RUN))
def test_a_function_loads_only_what_it_runs(function: str, builder: str) -> None:
    code = LOADED_AFTER_FIRST_USE.format(path=str(ROOT / "functions" / function / "app.py"), builder=builder)
    # as in Lambda: the Tracer is on and patches
    result = run_handler_code(code, AWS_LAMBDA_FUNCTION_NAME=f"certpush-{function}")

    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert not [name for name in NOT_RUN[(function, builder)] if name in loaded]


# -- the layer ships what the functions run (issue 21): CLI-only code lives in certpush_cli --------------------
LAYER_PACKAGE = ROOT / "layers" / "certpush" / "certpush"

# public names of the layer that no function reaches, and why they stay in the layer
USED_OUTSIDE_THE_FUNCTIONS = {
    ("certpush.ports", "DeadLetterQueue"): "the dead-letter port beside its sibling RedriveQueue (the push "
    "queue implements that one); ports move with their roles (issue 21 item 3)",
    ("certpush.ports", "RedriveQueue"): "the runtime's SqsPushQueue implements it (a Protocol: no import names it)",
    ("certpush.models.domain", "is_certificate_id"): "the id rule, beside the model field that enforces it",
    ("certpush.logic.certificate_rules", "refuses_at_import"): "the one rules table: the validator reads it, "
    "and the import (certpush_cli.logic.certificate_import) reads this column of it",
} | {
    ("certpush.logic.record_rules", check): "the record rules every repository applies, in one place: the SQLite "
    "host and the in-memory fake call the checks, DynamoDB's conditions are built from the same status sets"
    for check in (
        "binding_claimable", "may_be_replaced", "may_finish", "may_reject_over", "may_retract", "may_start",
        "record_claimable",
    )
}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(LAYER_PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


LAYER_MODULES = {_module_name(path): path for path in sorted(LAYER_PACKAGE.rglob("*.py"))}
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))


def _imported(path: Path, module: str) -> set[str]:
    """The layer modules a file imports, at its top or inside a function (``from a import b`` counts
    ``a.b`` when that is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in LAYER_MODULES)
    return found


def _reached_from(handlers: list[Path]) -> set[str]:
    reached: set[str] = set()
    todo = [name for handler in handlers for name in _imported(handler, "app")]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(_imported(LAYER_MODULES[name], name))
    return reached


def test_every_module_of_the_layer_is_run_by_a_function() -> None:
    """A module no handler in functions/ imports (directly, or through modules it imports) is code only the
    CLI or an emulator runs: it belongs in certpush_cli or certpush_emulators, not in the layer."""
    assert len(HANDLERS) >= 6

    assert sorted(set(LAYER_MODULES) - _reached_from(HANDLERS)) == []


def test_a_module_no_function_imports_is_found() -> None:
    """The walk above sees imports inside functions and through packages: without the records API's
    handler, its routes (imported by nothing else) are not reached."""
    assert "certpush.records_api" in _reached_from(HANDLERS)
    assert "certpush.records_api" not in _reached_from([h for h in HANDLERS if h.parent.name != "records_api"])


def _used_by_the_runtime(name: str, module: str, imports: dict[Path, set[str]], sources: dict[Path, str]) -> bool:
    """Named again in its own module, or in a module or handler that imports its module."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    own = LAYER_MODULES[module]
    return len(pattern.findall(sources[own])) > 1 or any(
        module in imported and pattern.search(sources[path]) for path, imported in imports.items() if path != own
    )


def _unused_public_names() -> list[tuple[str, str]]:
    sources = {path: path.read_text() for path in [*LAYER_MODULES.values(), *HANDLERS]}
    imports = {path: _imported(path, name) for name, path in LAYER_MODULES.items()}
    imports.update({handler: _imported(handler, "app") for handler in HANDLERS})
    return sorted(
        (module, node.name)
        for module, path in LAYER_MODULES.items()
        for node in ast.parse(sources[path]).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
        and not _used_by_the_runtime(node.name, module, imports, sources)
    )


def test_every_public_name_of_the_layer_is_used_by_the_runtime() -> None:
    """A public function or class that only the CLI, an emulator or a test uses (as ``signer.verify`` was:
    only the simulator checks signatures) leaves the layer, or is listed above with the reason it stays."""
    unused = _unused_public_names()

    assert sorted(set(unused) - set(USED_OUTSIDE_THE_FUNCTIONS)) == []
    assert sorted(set(USED_OUTSIDE_THE_FUNCTIONS) - set(unused)) == [], "an exception no longer needed"
