"""Simulated clouds for a home (``certpush serve --simulate``, or ``simulate = true`` in config.toml):
the Huawei Cloud simulator (``certpush_emulators.huaweicloud``, always installed) and moto for AWS
(only with ``pip install 'certpush[simulate]'``), each in a background process of its own.

They run apart from the host, in a session of their own, so that a host killed with SIGKILL and
started again finds the targets as it left them, as it would find a real cloud; their addresses and
pids are in the home's simulators.json, and the next command on the home reuses them.
``certpush simulators stop`` ends them (their state is in memory: stopped, the simulated clouds are
empty again)."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from certpush.errors import ConfigurationError
from certpush_cli.host.home import Home
from certpush_cli.host.processes import is_alive

MOTO_MISSING = "AWS targets are not simulated: moto is not installed; hint: pip install 'certpush[simulate]'"


@dataclass(frozen=True)
class SimulatedProcess:
    pid: int
    identity: str
    url: str


@dataclass(frozen=True)
class Simulation:
    huaweicloud: SimulatedProcess
    huaweicloud_access_key: str
    huaweicloud_secret_key: str
    aws: SimulatedProcess | None
    aws_missing: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Simulation:
        data: dict[str, Any] = json.loads(text)
        aws = data.get("aws")
        return cls(
            huaweicloud=SimulatedProcess(**data["huaweicloud"]),
            huaweicloud_access_key=data["huaweicloud_access_key"],
            huaweicloud_secret_key=data["huaweicloud_secret_key"],
            aws=SimulatedProcess(**aws) if aws else None,
            aws_missing=data.get("aws_missing"),
        )

    def processes(self) -> list[SimulatedProcess]:
        return [p for p in (self.huaweicloud, self.aws) if p is not None]

    def running(self) -> bool:
        return all(is_alive(p.identity) for p in self.processes())

    def aws_environment(self) -> dict[str, str]:
        """What boto3 needs to reach moto instead of AWS (fake credentials: moto takes any)."""
        if self.aws is None:
            return {}
        return {
            "AWS_ENDPOINT_URL": self.aws.url,
            "AWS_ACCESS_KEY_ID": "certpush-simulated",
            "AWS_SECRET_ACCESS_KEY": "certpush-simulated",  # moto takes any credential
            "AWS_SESSION_TOKEN": "certpush-simulated",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }


def moto_installed() -> bool:
    return importlib.util.find_spec("moto") is not None


def _identity_of(pid: int) -> str:
    from certpush_cli.host.processes import _identity  # the same form as process_identity()

    return _identity(pid)


def _start(command: list[str], log: Path) -> SimulatedProcess:
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
    line = process.stdout.readline().split()
    process.stdout.close()
    if line[:1] != ["listening"]:
        process.wait(timeout=10)
        raise ConfigurationError(f"a simulator did not start ({command[2]}); see {log}")
    url = line[1] if len(line) == 2 else f"http://{line[1]}:{line[2]}"
    return SimulatedProcess(pid=process.pid, identity=_identity_of(process.pid), url=url)


def load(home: Home) -> Simulation | None:
    if not home.simulators_file.exists():
        return None
    try:
        return Simulation.from_json(home.simulators_file.read_text())
    except (ValueError, KeyError, TypeError):
        return None


def ensure_running(home: Home) -> Simulation:
    """The home's simulators, started when they do not run (a lock file keeps two commands from
    starting two sets at once). AWS is simulated when moto is installed and the home's config does
    not say ``simulate_aws = false``."""
    import fcntl

    aws = home.config().simulate_aws and moto_installed()
    with (home.path / "simulators.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = load(home)
        if known is not None and known.running() and (known.aws is not None) == aws:
            return known
        if known is not None:
            stop(home, known)
        simulation = _start_all(home, aws)
        home.simulators_file.write_text(simulation.to_json())
        os.chmod(home.simulators_file, 0o600)
        return simulation


def _start_all(home: Home, aws_wanted: bool) -> Simulation:
    log = home.path / "simulators.log"
    access_key, secret_key = f"SIM{secrets.token_hex(8).upper()}", secrets.token_urlsafe(24)
    # "--name=value": a key of URL-safe characters may start with "-", which a parser takes for an option
    arguments = [f"--access-key={access_key}", f"--secret-key={secret_key}"]
    huawei = _start([sys.executable, "-m", "certpush_emulators.huaweicloud", *arguments], log)
    aws: SimulatedProcess | None = None
    missing: str | None = None
    if aws_wanted:
        aws = _start([sys.executable, "-m", "certpush_emulators.aws.moto_process", "0", "--until-terminated"], log)
    else:
        missing = MOTO_MISSING if not moto_installed() else "AWS targets are not simulated: simulate_aws = false"
    return Simulation(huawei, access_key, secret_key, aws, missing)


def stop(home: Home, simulation: Simulation | None = None) -> list[int]:
    """Stops the home's simulators; returns the pids that were stopped."""
    simulation = simulation or load(home)
    stopped: list[int] = []
    if simulation is None:
        return stopped
    for process in simulation.processes():
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
