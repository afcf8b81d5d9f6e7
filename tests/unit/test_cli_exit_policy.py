"""Every command of `certpush` maps its errors through the one exit-code policy
(``certpush_cli.exit_codes``; docs/operations.md "Exit codes"): a failure met inside any command ends as
one line on stderr and the policy's code, never a traceback nor a code of the command's own.

Each command runs here with arguments that parse, while the certpush it talks to fails underneath it
(its backend or home cannot be reached: exit 5) or, for a command that talks to none, while what it
writes cannot be written (exit 3). ``ROWS`` must name every command: a new command fails this test
until it has a row. (``tests/e2e/test_exit_codes.py`` runs each command and outcome on the embedded
stack.)"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from certpush.errors import DependencyError
from certpush_cli import backends
from certpush_cli.exit_codes import ExitCode
from certpush_cli.host.home import Home
from certpush_cli.main import app
from certpush_cli.sample_certificates import make_certificate

pytestmark = pytest.mark.unit

ID = "demo-example-com"
TO = ["--to", "aws:elb=us-east-1"]


def _leaf_commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer ships its own click)
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = sorted(_leaf_commands(typer.main.get_command(app)))


class Paths:
    """Files the rows refer to: a sample certificate's files, and a path under a regular file (nothing
    can be written there)."""

    def __init__(self, folder: Path) -> None:
        written = make_certificate("demo.example.com").write(folder / "sample")
        self.cert, self.key = str(written["cert"]), str(written["key"])
        blocker = folder / "a-file"
        blocker.write_text("not a folder")
        self.unwritable = str(blocker / "out")


UNREACHABLE = ExitCode.UNREACHABLE
REFUSED = ExitCode.REFUSED

# (command, arguments after it, the code when the certpush behind it fails or the output cannot be written)
ROWS: dict[tuple[str, ...], tuple[Callable[[Paths], list[str]], ExitCode]] = {
    ("push",): (lambda p: [ID, *TO], UNREACHABLE),
    ("replay",): (lambda p: [ID], UNREACHABLE),
    ("history",): (lambda p: [ID], UNREACHABLE),
    ("failed",): (lambda p: [], UNREACHABLE),
    ("retract",): (lambda p: [ID, *TO], UNREACHABLE),
    ("dashboard",): (lambda p: ["--port", "0"], UNREACHABLE),
    ("serve",): (lambda p: ["--port", "0"], UNREACHABLE),
    ("events",): (lambda p: [], UNREACHABLE),
    ("certificates", "import"): (lambda p: ["--cert", p.cert, "--key", p.key, "--no-push"], UNREACHABLE),
    ("certificates", "list"): (lambda p: [], UNREACHABLE),
    ("certificates", "show"): (lambda p: [ID], UNREACHABLE),
    ("certificates", "set-status"): (lambda p: [ID, "REVOKED"], UNREACHABLE),
    ("policies", "add"): (lambda p: ["web", "--pattern", "*.example.com", *TO], UNREACHABLE),
    ("policies", "list"): (lambda p: [], UNREACHABLE),
    ("policies", "remove"): (lambda p: ["web"], UNREACHABLE),
    ("records", "show"): (lambda p: [ID], UNREACHABLE),
    ("records", "forget"): (lambda p: [ID, *TO], UNREACHABLE),
    ("dead-letters", "list"): (lambda p: [], UNREACHABLE),
    ("dead-letters", "redrive"): (lambda p: [], UNREACHABLE),
    ("credentials", "set"): (lambda p: ["huaweicloud", "--access-key", "AK", "--secret-key-stdin"], UNREACHABLE),
    ("credentials", "show"): (lambda p: [], UNREACHABLE),
    ("credentials", "remove"): (lambda p: ["huaweicloud"], UNREACHABLE),
    ("simulators", "status"): (lambda p: [], UNREACHABLE),
    ("simulators", "stop"): (lambda p: [], UNREACHABLE),
    ("simulators", "add-cdn-domain"): (lambda p: ["demo.example.com"], UNREACHABLE),
    # talk to no certpush: what they write cannot be written
    ("openapi",): (lambda p: ["--out", f"{p.unwritable}/openapi.json"], REFUSED),
    ("schemas",): (lambda p: ["--out", p.unwritable], REFUSED),
    ("sample-certificate",): (lambda p: ["--out", p.unwritable], REFUSED),
    ("hooks", "install"): (
        lambda p: ["certbot", "--dest", p.unwritable, "--certpush", sys.executable, "--stack", "s"],
        REFUSED,
    ),
}


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path)


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever certpush a command opens (a stack or a home, through the backends or the host's own
    composition root) fails as a store that refuses connections does."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise DependencyError("connection refused (the test's backend)")

    monkeypatch.setattr(backends, "open_backend", refuse)
    monkeypatch.setattr(Home, "open", staticmethod(refuse))
    monkeypatch.delenv("CERTPUSH_STACK", raising=False)


def _one_line_error(stderr: str) -> None:
    ours = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(ours) == 1 and stderr.rstrip().splitlines()[-1] == ours[0], stderr
    assert "Traceback" not in stderr


def test_every_command_has_a_row() -> None:
    assert sorted(ROWS) == COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.usefixtures("unreachable")
def test_a_failure_inside_each_command_exits_through_the_policy(command: tuple[str, ...], paths: Paths) -> None:
    arguments, code = ROWS[command]

    result = CliRunner().invoke(app, [*command, *arguments(paths)], input="SK\n", catch_exceptions=False)

    assert result.exit_code == code, f"certpush {' '.join(command)}: {result.output}"
    _one_line_error(result.stderr)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_malformed_command_line_is_a_usage_error_for_each_command(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--no-such-option"], catch_exceptions=False)

    assert result.exit_code == ExitCode.USAGE, result.output
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_a_stack_and_a_home_together_are_a_usage_error(tmp_path: Path) -> None:
    """Options that exclude each other are a usage error (2) in every command, also when the backend
    finds them (and before anything is opened)."""
    result = CliRunner().invoke(app, ["failed", "--stack", "s", "--home", str(tmp_path)], catch_exceptions=False)

    assert result.exit_code == ExitCode.USAGE, result.output
    _one_line_error(result.stderr)
