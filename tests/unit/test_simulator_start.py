"""Starting an emulator never hangs the host: one that does not say it listens within its time, or says
something else, is stopped and named with its log (cli/certpush_cli/host/simulators.py ``_start``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certpush.errors import ConfigurationError
from certpush_cli.host.simulators import _start

SLEEPS = "import time; time.sleep(600)"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the processes ``_start`` made."""
    pids: list[int] = []
    real = subprocess.Popen

    def remember(*args: Any, **kwargs: Any) -> Any:
        process = real(*args, **kwargs)
        pids.append(process.pid)
        return process

    monkeypatch.setattr(subprocess, "Popen", remember)
    return pids


def test_an_emulator_that_says_nothing_is_stopped_and_named(tmp_path: Path, started: list[int]) -> None:
    with pytest.raises(ConfigurationError, match=r"said nothing within 0.5 s .*simulators.log"):
        _start([sys.executable, "-c", SLEEPS], tmp_path / "simulators.log", start_seconds=0.5)

    [pid] = started
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped, not left running


def test_an_emulator_that_prints_something_else_is_stopped(tmp_path: Path, started: list[int]) -> None:
    with pytest.raises(ConfigurationError, match="did not start"):
        _start([sys.executable, "-c", f"print('hello', flush=True); {SLEEPS}"], tmp_path / "log", start_seconds=30)

    [pid] = started
    assert not Path(f"/proc/{pid}").exists()


def test_an_emulator_that_listens_is_started(tmp_path: Path) -> None:
    command = [sys.executable, "-c", f"print('listening http://127.0.0.1:1', flush=True); {SLEEPS}"]

    emulator = _start(command, tmp_path / "log", start_seconds=30)
    try:
        assert emulator.url == "http://127.0.0.1:1"
    finally:
        os.kill(emulator.pid, signal.SIGKILL)
