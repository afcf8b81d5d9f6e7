"""`certpush-dev stack down` returns once the embedded stack's processes are gone and its ports are
free, so `stack up` on the same ports works at once (its port probe binds with SO_REUSEADDR, as the
servers do: connections left in TIME_WAIT do not count); a command against a stack that went down
is "unreachable" (exit 5)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from certpush_cli.exit_codes import ExitCode
from certpush_dev.stack_commands import port_is_free
from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True, text=True, timeout=180, check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip


def _dev(*args: str) -> subprocess.CompletedProcess[str]:
    return _run("certpush_dev.stack_commands", "stack", *args)


def _listens(port: int) -> bool:
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port)) == 0


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_down_waits_for_the_stack_to_be_gone_and_up_can_follow_on_the_same_ports(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    aws_port, huawei_port = _free_ports(2)
    state = tmp_path / "state"
    up_args = ["up", "--detach", "--template", str(ROOT / "template.yaml"), "--port", str(aws_port),
               "--huawei-port", str(huawei_port), "--state-dir", str(state),
               "--log-file", str(tmp_path / "log")]  # fmt: skip

    up = _dev(*up_args)
    # a failed assertion below must not leave the detached stack running (down of a stack gone is harmless)
    request.addfinalizer(lambda: _dev("down", "--state-dir", str(state)))
    assert up.returncode == 0, up.stderr
    # the commands it prints work as printed: they name the state dir (issue 20)
    assert f"certpush-dev stack env --state-dir {state}" in up.stderr, up.stderr
    assert f"certpush-dev stack down --state-dir {state}" in up.stderr, up.stderr
    pid = json.loads((state / "local.json").read_text())["pid"]
    exports = _dev("env", "--state-dir", str(state)).stdout.split("\n")
    env = dict(line.removeprefix("export ").split("=", 1) for line in exports if line.startswith("export "))
    listed = _run("certpush_cli.main", "certificates", "list", env=env)  # leaves connections in TIME_WAIT
    assert listed.returncode == 0, listed.stderr
    # as the docs say to use them, in a shell that also has a home named: the exports point at the stack
    python = sys.executable
    in_shell = subprocess.run(
        ["bash", "-c", f'eval "$({python} -m certpush_dev.stack_commands stack env --state-dir {state})" && '
                       f"{python} -m certpush_cli.main certificates list"],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "CERTPUSH_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert in_shell.returncode == 0, in_shell.stderr

    down = _dev("down", "--state-dir", str(state))

    assert down.returncode == 0, down.stderr
    assert not _running(pid)
    assert not _listens(aws_port) and not _listens(huawei_port)
    assert port_is_free(aws_port) and port_is_free(huawei_port)
    gone = _run("certpush_cli.main", "push", "any-id", "--to", "aws:elb=us-east-1", env=env)
    assert gone.returncode == ExitCode.UNREACHABLE, gone.stderr
    assert len(gone.stderr.strip().splitlines()) == 1

    again = _dev(*up_args)
    try:
        assert again.returncode == 0, again.stderr
        assert _run("certpush_cli.main", "certificates", "list", env=env).returncode == 0
    finally:
        assert _dev("down", "--state-dir", str(state)).returncode == 0
