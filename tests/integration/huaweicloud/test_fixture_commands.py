"""The emulator fixtures (``certpush_emulators.fixtures``): each emulator package declares what its targets
need that a console creates, and both CLIs offer one command per fixture without a line of their own
(``certpush simulators add-NAME``, ``certpush-dev stack create-NAME``), with the one exit-code policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from certpush_cli.exit_codes import ExitCode
from certpush_cli.main import app
from certpush_dev.stack_commands import app as dev_app
from certpush_emulators.fixtures import all_fixtures
from certpush_emulators.huaweicloud.server import HuaweiCloudSimulator

pytestmark = pytest.mark.integration


def _subcommands(root: Any, group: str) -> set[str]:
    return set(typer.main.get_command(root).commands[group].commands)  # type: ignore[attr-defined]


def test_each_emulator_fixture_is_a_command_of_both_clis() -> None:
    names = [fixture.name for fixture in all_fixtures()]

    assert "cdn-domain" in names  # the Huawei Cloud simulator's, found by iterating the emulator packages
    assert {f"add-{name}" for name in names} <= _subcommands(app, "simulators")
    assert {f"create-{name}" for name in names} <= _subcommands(dev_app, "stack")


def _state(folder: Path, url: str) -> list[str]:
    """A running embedded stack's state file, as `certpush-dev stack up` writes it, naming this simulator."""
    (folder / "local.json").write_text(json.dumps({"huaweicloud_url": url}))
    return ["--state-dir", str(folder)]


def test_a_fixture_command_makes_the_fixture_in_the_emulator(sim: HuaweiCloudSimulator, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        dev_app, ["stack", "create-cdn-domain", "shop.example.com", *_state(tmp_path, sim.url)], catch_exceptions=False
    )

    assert result.exit_code == ExitCode.OK, result.output
    domains = {d["domain_name"]: d["id"] for d in sim.state()["cdn"]["global"]["domains"]}
    assert domains["shop.example.com"] == result.stdout.strip()


def test_a_fixture_the_emulator_refuses_exits_3(sim: HuaweiCloudSimulator, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        dev_app, ["stack", "create-cdn-domain", "not a domain", *_state(tmp_path, sim.url)], catch_exceptions=False
    )

    assert result.exit_code == ExitCode.REFUSED, result.output
    assert result.stderr.startswith("error: the simulator refused not a domain") and "hint:" in result.stderr
    assert all(d["domain_name"] != "not a domain" for d in sim.state()["cdn"]["global"]["domains"])


def test_an_emulator_that_does_not_answer_exits_5(tmp_path: Path) -> None:
    with HuaweiCloudSimulator() as gone:
        url = gone.url  # stopped when the block ends: nothing listens there any more

    result = CliRunner().invoke(
        dev_app, ["stack", "create-cdn-domain", "shop.example.com", *_state(tmp_path, url)], catch_exceptions=False
    )

    assert result.exit_code == ExitCode.UNREACHABLE, result.output
    assert "cannot be reached" in result.stderr and "Traceback" not in result.stderr
