"""Simulated clouds for a home (``certpush serve --simulate``, or ``simulate = true`` in config.toml):
one background process per emulator package that declares how it runs (``certpush_emulators.processes``:
the Huawei Cloud simulator, always installed; moto for AWS, only with ``pip install 'certpush[simulate]'``).

They run apart from the host, in a session of their own, so that a host killed with SIGKILL and
started again finds the targets as it left them, as it would find a real cloud; their addresses, pids
and the credentials they accept are in the home's simulators.json, and the next command on the home
reuses them. ``certpush simulators stop`` ends them (their state is in memory: stopped, the simulated
clouds are empty again)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from certpush.errors import ConfigurationError
from certpush_cli.host.home import Home
from certpush_cli.host.processes import is_alive
from certpush_emulators.processes import EmulatorProcess, all_processes

PLATFORM = "aws"
"""The provider whose simulation a home's ``simulate_aws = false`` turns off."""


@dataclass(frozen=True)
class SimulatedProcess:
    pid: int
    identity: str
    url: str


@dataclass(frozen=True)
class Simulation:
    """The simulated clouds of a home, by provider: a provider missing from ``processes`` is not simulated
    (``missing`` says why) and its targets are unavailable, never the real cloud."""

    processes: dict[str, SimulatedProcess]
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    """The credentials each simulator accepts, as the provider's secret holds them."""
    missing: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"version": 2, **asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Simulation:
        data: dict[str, Any] = json.loads(text)
        if "processes" not in data:
            return cls._from_first_format(data)
        return cls(
            processes={provider: SimulatedProcess(**p) for provider, p in data["processes"].items()},
            credentials={provider: dict(c) for provider, c in data.get("credentials", {}).items()},
            missing=dict(data.get("missing", {})),
        )

    @classmethod
    def _from_first_format(cls, data: dict[str, Any]) -> Simulation:
        """simulators.json as homes before per-provider simulators wrote it: ``{"<provider>": {pid,
        identity, url} or null, "<provider>_access_key": ..., "<provider>_secret_key": ...,
        "<provider>_missing": ...}`` (a home keeps working after an upgrade)."""
        processes: dict[str, SimulatedProcess] = {}
        credentials: dict[str, dict[str, str]] = {}
        missing: dict[str, str] = {}
        for key, value in data.items():
            if isinstance(value, dict):
                processes[key] = SimulatedProcess(**value)
            elif key.endswith("_missing"):
                if value:
                    missing[key.removesuffix("_missing")] = str(value)
            elif key.endswith(("_access_key", "_secret_key")) and value is not None:
                provider, _, name = key.partition("_")
                credentials.setdefault(provider, {})[name] = str(value)
        if not processes:
            raise ValueError("no simulated process")
        return cls(processes, credentials, missing)

    def running(self) -> bool:
        return all(is_alive(p.identity) for p in self.processes.values())

    def environment(self) -> dict[str, str]:
        """What points each simulated provider's targets (and SDK: boto3 reads os.environ) at its simulator."""
        declared = {p.provider: p for p in all_processes()}
        found: dict[str, str] = {}
        for provider, process in self.processes.items():
            if provider in declared:
                found.update(declared[provider].environment(process.url))
        return found


def _identity_of(pid: int) -> str:
    from certpush_cli.host.processes import _identity  # the same form as process_identity()

    return _identity(pid)


START_SECONDS = 60.0
"""How long an emulator may take to say it listens (moto imports for seconds on a busy machine)."""


def _start(command: list[str], log: Path, start_seconds: float = START_SECONDS) -> SimulatedProcess:
    """Starts an emulator and reads the line it prints once it listens; one that says nothing within
    ``start_seconds``, or something else, is stopped and named with its log (never waited for forever)."""
    with log.open("ab") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own modules, with this interpreter
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,  # not stopped by the host's signals nor its terminal's Ctrl-C
            text=True,
        )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], start_seconds)
    line = process.stdout.readline().split() if ready else []
    process.stdout.close()
    if line[:1] != ["listening"]:
        process.kill()  # it may still run (silent, or it printed something else): never left behind
        process.wait(timeout=10)
        said = f"said nothing within {start_seconds:g} s" if not ready else "did not start"
        raise ConfigurationError(f"a simulator {said} ({command[2]}); see {log}")
    url = line[1] if len(line) == 2 else f"http://{line[1]}:{line[2]}"
    return SimulatedProcess(pid=process.pid, identity=_identity_of(process.pid), url=url)


def load(home: Home) -> Simulation | None:
    if not home.simulators_file.exists():
        return None
    try:
        return Simulation.from_json(home.simulators_file.read_text())
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _wanted(home: Home) -> tuple[list[EmulatorProcess], dict[str, str]]:
    """The emulators to run for the home, and why the others do not run."""
    simulate_platform = home.config().simulate_aws
    wanted, missing = [], {}
    for emulator in all_processes():
        if not emulator.installed():
            missing[emulator.provider] = emulator.missing or f"{emulator.title} is not installed"
        elif emulator.provider == PLATFORM and not simulate_platform:
            missing[emulator.provider] = f"{emulator.provider} targets are not simulated: simulate_aws = false"
        else:
            wanted.append(emulator)
    return wanted, missing


def ensure_running(home: Home) -> Simulation:
    """The home's simulators, started when they do not run (a lock file keeps two commands from
    starting two sets at once). AWS is simulated when moto is installed and the home's config does
    not say ``simulate_aws = false``."""
    import fcntl

    wanted, missing = _wanted(home)
    with (home.path / "simulators.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = load(home)
        if known is not None and known.running() and set(known.processes) == {e.provider for e in wanted}:
            return known
        if known is not None:
            stop(home, known)
        simulation = _start_all(home, wanted, missing)
        home.simulators_file.write_text(simulation.to_json())
        os.chmod(home.simulators_file, 0o600)
        return simulation


def _start_all(home: Home, wanted: list[EmulatorProcess], missing: dict[str, str]) -> Simulation:
    log = home.path / "simulators.log"
    processes: dict[str, SimulatedProcess] = {}
    credentials: dict[str, dict[str, str]] = {}
    try:
        for emulator in wanted:
            accepted = emulator.make_credentials()
            command = [sys.executable, "-m", emulator.module, *emulator.arguments(accepted)]
            processes[emulator.provider] = _start(command, log)
            if accepted:
                credentials[emulator.provider] = accepted
    except BaseException:
        stop(home, Simulation(processes))
        raise
    return Simulation(processes, credentials, missing)


def stop(home: Home, simulation: Simulation | None = None) -> list[int]:
    """Stops the home's simulators; returns the pids that were stopped."""
    simulation = simulation or load(home)
    stopped: list[int] = []
    if simulation is None:
        return stopped
    for process in simulation.processes.values():
        if not is_alive(process.identity):
            continue
        try:
            os.kill(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 10
        while is_alive(process.identity) and time.monotonic() < deadline:
            time.sleep(0.05)
        if is_alive(process.identity):
            os.kill(process.pid, signal.SIGKILL)
        stopped.append(process.pid)
    home.simulators_file.unlink(missing_ok=True)
    return stopped
