"""The one-machine host tier: `certpush serve` and the CLI as separate processes on a home in a
temporary directory, with simulated clouds (the host's own --simulate). Every process a test starts
is stopped by its pid when the test ends, and so are the home's simulators."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from certpush_cli.host import simulators
from certpush_cli.host.home import Home
from certpush_cli.sample_certificates import SampleCertificate, make_certificate

ROOT = Path(__file__).resolve().parents[2]
READY = "certpush serve: home"

# fast settings for tests (the defaults are the AWS deployment's)
FAST_CONFIG = """
retry_base_seconds = 0
poll_seconds = 0.05
simulate_aws = false
"""


def host_environment(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without what would point the CLI elsewhere (a stack, real clouds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CERTPUSH_", "HUAWEICLOUD_"))}
    env.update({"CERTPUSH_HOME": str(home), "PYTHONUNBUFFERED": "1", **extra})
    return env


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def eventually(check: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Polls state until it holds (never a sleep standing in for it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Serve:
    """A `certpush serve` process on a home."""

    home: Path
    log: Path
    simulate: bool = True
    process: subprocess.Popen[bytes] | None = None
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, timeout: float = 60) -> Serve:
        command = [sys.executable, "-m", "certpush_cli.main", "serve", "--port", "0"]
        if self.simulate:
            command.append("--simulate")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=host_environment(self.home), stdout=log, stderr=log)
        self.started.append(self.process)
        eventually(lambda: self._ready(), timeout, "certpush serve to be ready")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"certpush serve exited with {self.process.returncode}:\n{self.log.read_text()}")
        return self.log.read_text().count(READY) >= len(self.started)

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 60) -> int:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    Home.open(path)
    (path / "config.toml").write_text(FAST_CONFIG)
    try:
        yield path
    finally:
        simulators.stop(Home(path))


@pytest.fixture
def cli(home: Path) -> Callable[..., CliResult]:
    def run(*args: str, expect: int | None = 0, timeout: float = 120, **env: str) -> CliResult:
        done = subprocess.run(
            [sys.executable, "-m", "certpush_cli.main", *args],
            env=host_environment(home, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = CliResult(done.returncode, done.stdout, done.stderr)
        if expect is not None:
            assert done.returncode == expect, (
                f"certpush {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}"
            )
        return result

    return run


@pytest.fixture
def serve(home: Path, tmp_path: Path) -> Iterator[Serve]:
    running = Serve(home, tmp_path / "serve.log")
    try:
        yield running
    finally:
        running.stop_all()


def material_files(tmp_path: Path, sample: SampleCertificate) -> list[str]:
    paths = sample.write(tmp_path / uuid.uuid4().hex[:6])
    return ["--cert", str(paths["cert"]), "--chain", str(paths["chain"]), "--key", str(paths["key"])]


def sample(certificate_id: str) -> SampleCertificate:
    return make_certificate(f"{certificate_id}.example.com")


def simulator_url(home: Path) -> str:
    simulation = simulators.load(Home(home))
    assert simulation is not None, "the home's simulators do not run"
    return simulation.processes["huaweicloud"].url


def copies(home: Path, service: str, region: str, name: str) -> int:
    """How many certificates named ``name`` the simulated Huawei Cloud service holds in the region."""
    state = httpx.get(f"{simulator_url(home)}/_sim/state", timeout=10).json()
    found = state[service].get(region, {}).get("certificates", [])
    return sum(1 for certificate in found if certificate["name"] == name)
