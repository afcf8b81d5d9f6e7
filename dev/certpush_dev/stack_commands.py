"""`certpush-dev stack ...`: the embedded AWS stack (moto + each provider's emulator + in-process pollers),
which emulates the AWS deployment (template.yaml) on this machine for tests and for trying the AWS
topology. It is not how certpush runs for real on one machine: that is `certpush serve`."""

from __future__ import annotations

import inspect
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_type_hints
from urllib.parse import urlsplit

import typer

from certpush_cli.exit_codes import ExitCode, user_errors
from certpush_cli.fixture_commands import register_fixture_commands
from certpush_cli.output import err, out
from certpush_emulators.processes import EmulatorProcess, all_processes

app = typer.Typer(
    name="certpush-dev",
    help="Development tooling of certpush (not needed to run it): the embedded AWS stack.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
local_app = typer.Typer(
    help="Emulate the AWS deployment on this machine: moto as AWS, each provider's emulator, the Lambda "
    "handlers of template.yaml on in-process pollers. For tests and trying the AWS topology; to run certpush "
    "for real on one machine, use `certpush serve`.",
    no_args_is_help=True,
)
app.add_typer(local_app, name="stack")

StateDir = Annotated[Path, typer.Option("--state-dir", help="Where the running stack's state file lives.")]
StackOption = Annotated[
    str, typer.Option("--stack", envvar="CERTPUSH_STACK", help="Name of the certpush stack (CloudFormation).")
]
DEFAULT_STATE_DIR = Path(".certpush")


def _state_file(state_dir: Path) -> Path:
    return state_dir / "local.json"


def _here(state_dir: Path) -> str:
    """The --state-dir the commands this prints need to work as printed (none for the default)."""
    return "" if state_dir == DEFAULT_STATE_DIR else f" --state-dir {shlex.quote(str(state_dir))}"


def _read_state(state_dir: Path) -> dict[str, Any]:
    path = _state_file(state_dir)
    if not path.exists():
        err.print(
            f"error: no embedded stack is running here ({path} not found); start one with "
            f"`certpush-dev stack up{_here(state_dir)}`"
        )
        raise typer.Exit(ExitCode.UNREACHABLE)
    return json.loads(path.read_text())


def _project_root(template: Path) -> Path:
    if not template.exists():
        err.print(f"error: {template} not found; run from the certpush checkout or pass --template")
        raise typer.Exit(ExitCode.REFUSED)
    return template.resolve().parent


def _port_emulators() -> list[EmulatorProcess]:
    """The emulators `stack up` runs beside moto (as ``certpush_dev.local.stack.embedded_emulators``, without
    importing the stack to declare the command)."""
    return [emulator for emulator in all_processes() if emulator.in_process is not None]


def _port_option(emulator: EmulatorProcess) -> str:
    return emulator.port_option or f"--{emulator.provider}-port"


def up(
    template: Annotated[Path, typer.Option(help="The SAM template the stack is built from.")] = Path("template.yaml"),
    port: Annotated[int, typer.Option(help="Port of the AWS emulator (moto).", envvar="CERTPUSH_DEV_AWS_PORT")] = 4599,
    detach: Annotated[bool, typer.Option("--detach", help="Run in the background; return once it is ready.")] = False,
    log_file: Annotated[Path, typer.Option(help="With --detach: where the stack's logs go.")] = Path(
        ".certpush/local.log"
    ),
    timeout: Annotated[float, typer.Option(help="With --detach: seconds to wait for it to be ready.")] = 60,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    **emulator_ports: int,
) -> None:
    """Start the embedded stack. Then, in a shell: eval "$(certpush-dev stack env)"."""
    root = _project_root(template)
    state_path = _state_file(state_dir)
    ports = {emulator.provider: emulator_ports[f"{emulator.provider}_port"] for emulator in _port_emulators()}
    if detach:
        _detach(template, port, ports, log_file, timeout, state_dir)
        return
    from certpush_dev.local.stack import EmbeddedStack

    stack = EmbeddedStack(root=root, port=port, emulator_ports=ports, run_schedules=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        stack.start()
    except OSError as exc:
        options = "/".join(["--port", *(_port_option(e) for e in _port_emulators())])
        err.print(f"error: the embedded stack could not start: {exc}; hint: pick other ports with {options}")
        raise typer.Exit(ExitCode.UNREACHABLE) from exc
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "pid": os.getpid(),
            "endpoint_url": stack.endpoint_url,
            # "<provider>_url": where `stack create-NAME`, `stack check` and `stack down` find its emulator
            **{f"{provider}_url": running.url for provider, running in stack.emulators.items()},
            "region": stack.region,
            "stack": stack.stack_name,
            "environment": stack.client_environment(),
        }
        state_path.write_text(json.dumps(state, indent=2))
        titles = {e.provider: e.title for e in _port_emulators()}
        where = "".join(f", {titles[provider]} at {running.url}" for provider, running in stack.emulators.items())
        err.print(f"certpush embedded stack ready: AWS at {stack.endpoint_url}{where}")
        err.print(f'in another shell: eval "$(certpush-dev stack env{_here(state_dir)})"; Ctrl-C stops it')
        stopped.wait()
    finally:
        # the state goes last: `stack down` waits for it, so it returns once every process stopped
        stack.stop()
        state_path.unlink(missing_ok=True)


def _declare_emulator_ports(command: Callable[..., None]) -> Callable[..., None]:
    """One option per emulator for its port (``--huawei-port``...), declared by its emulator package."""
    signature = inspect.signature(command)
    extra = [
        inspect.Parameter(
            f"{emulator.provider}_port",
            inspect.Parameter.KEYWORD_ONLY,
            default=emulator.default_port,
            annotation=Annotated[
                int,
                typer.Option(
                    _port_option(emulator), help=f"Port of the {emulator.title}.", envvar=emulator.port_variable or None
                ),
            ],
        )
        for emulator in _port_emulators()
    ]
    hints = get_type_hints(command, include_extras=True)
    fixed = [
        p.replace(annotation=hints[p.name])
        for p in signature.parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    command.__signature__ = signature.replace(parameters=[*fixed, *extra])  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in (*fixed, *extra)}
    return command


local_app.command("up")(_declare_emulator_ports(up))


def _detach(
    template: Path, port: int, emulator_ports: dict[str, int], log_file: Path, timeout: float, state_dir: Path
) -> None:
    state_path = _state_file(state_dir)
    if state_path.exists():
        err.print(f"error: an embedded stack already runs here (pid {json.loads(state_path.read_text())['pid']}); "
                  f"`certpush-dev stack down{_here(state_dir)}` stops it")  # fmt: skip
        raise typer.Exit(ExitCode.REFUSED)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    ports = [item for e in _port_emulators() for item in (_port_option(e), str(emulator_ports[e.provider]))]
    command = [sys.executable, "-m", "certpush_dev.stack_commands", "stack", "up", "--template", str(template),
               "--port", str(port), *ports, "--state-dir", str(state_dir)]  # fmt: skip
    with log_file.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    deadline = time.monotonic() + timeout
    while not state_path.exists():
        if process.poll() is not None:
            err.print(f"error: the embedded stack exited with {process.returncode}; see {log_file}")
            raise typer.Exit(ExitCode.UNREACHABLE)
        if time.monotonic() > deadline:
            process.terminate()
            err.print(f"error: the embedded stack was not ready after {timeout:.0f}s; see {log_file}")
            raise typer.Exit(ExitCode.UNREACHABLE)
        time.sleep(0.1)
    err.print(f"certpush embedded stack running in the background (pid {process.pid}, logs in {log_file})")
    err.print(f'use it with: eval "$(certpush-dev stack env{_here(state_dir)})"; stop it with: '
              f"certpush-dev stack down{_here(state_dir)}")  # fmt: skip


@local_app.command("down")
def down(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for it to stop.")] = 20,
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Stop the embedded stack started with --detach. Returns once its processes are gone and its
    ports are free (a `stack up` on the same ports can follow at once)."""
    state = _read_state(state_dir)
    pid = int(state["pid"])
    urls = [value for key, value in state.items() if key.endswith("_url") and isinstance(value, str)]
    ports = [port for port in map(_port, urls) if port]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _state_file(state_dir).unlink(missing_ok=True)
        err.print(f"the embedded stack (pid {pid}) was not running; state cleared")
        return
    deadline = time.monotonic() + timeout
    while _state_file(state_dir).exists() or _running(pid) or not all(port_is_free(port) for port in ports):
        if time.monotonic() > deadline:
            err.print(
                f"error: the embedded stack (pid {pid}) did not stop within {timeout:.0f}s (ports {ports}); "
                f"hint: kill {pid}"
            )
            raise typer.Exit(ExitCode.UNREACHABLE)
        time.sleep(0.1)
    err.print(f"embedded stack (pid {pid}) stopped; ports {', '.join(map(str, ports))} are free")


def _port(url: str | None) -> int | None:
    return urlsplit(url).port if url else None


def _running(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie, not yet reaped by its parent, has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return True
    return fields[0] != "Z"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on the port now. With SO_REUSEADDR, as the emulators' servers
    bind: connections of the stopped stack left in TIME_WAIT do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@local_app.command("env")
def env(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Print the shell exports that point the CLI (and the AWS CLI, boto3...) at the embedded stack.

    They begin with ``unset CERTPUSH_HOME``: the CLI refuses a stack and a home named at once, and after
    ``eval "$(certpush-dev stack env)"`` the stack is the one meant."""
    state = _read_state(state_dir)
    out.print("unset CERTPUSH_HOME")
    for key, value in {**state["environment"], "CERTPUSH_STACK": state["stack"]}.items():
        out.print(f"export {key}={value}")


@local_app.command("create-listener")
def create_listener(
    region: Annotated[str, typer.Option(help="Region of the load balancer.")] = "us-east-1",
    name: Annotated[str, typer.Option(help="Load balancer name.")] = "certpush-demo",
    attach: Annotated[
        str,
        typer.Option(help="Its certpush:attach tag: true (SNI certificates), default (also --attach-default), none."),
    ] = "true",
) -> None:
    """Create an application load balancer with an HTTPS listener in the emulator (demo and tests).

    Prints the listener ARN, to use with `certpush push ... --attach aws:elb=ARN`."""
    _embedded_only("create-listener")
    from certpush_dev.local.fixtures import create_https_listener

    out.print(create_https_listener(region, name, attach=None if attach == "none" else attach))


@local_app.command("create-distribution")
def create_distribution(
    domain: Annotated[str, typer.Argument(help="The distribution's alternate domain name, e.g. demo.example.com.")],
    attach: Annotated[str, typer.Option(help="Its certpush:attach tag: true, or none.")] = "true",
) -> None:
    """Create a CloudFront distribution in the emulator (demo and tests). Prints its id, to use with
    `certpush push ... --attach aws:cloudfront=ID`."""
    _embedded_only("create-distribution")
    from certpush_dev.local.fixtures import create_distribution as create

    out.print(create(domain, attach=None if attach == "none" else attach))


def _embedded_only(command: str) -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        err.print(f"error: {command} only runs against the embedded stack (AWS_ENDPOINT_URL on localhost)")
        raise typer.Exit(ExitCode.REFUSED)


# `certpush-dev stack create-NAME`: each emulator package's fixtures (certpush_emulators.fixtures), made in
# the running stack's emulator of that provider (its URL in the state file: "<provider>_url")
register_fixture_commands(
    local_app,
    "create",
    inspect.Parameter("state_dir", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_STATE_DIR, annotation=StateDir),
    lambda provider, state_dir: str(_read_state(state_dir)[f"{provider}_url"]),
)


@local_app.command("check")
def check(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.")],
    stack: StackOption = "certpush",
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Look in the emulators for every SUCCEEDED push of a certificate: is it really there?"""
    from certpush_cli.stack import settings_for_stack
    from certpush_dev.local.inspection import inspect_pushes

    state = _read_state(state_dir)
    problems = 0
    with user_errors():
        settings = settings_for_stack(stack)
        for line, ok in inspect_pushes(settings, certificate_id, lambda provider: state.get(f"{provider}_url")):
            out.print(("ok      " if ok else "MISSING ") + line)
            problems += 0 if ok else 1
    if problems:
        raise typer.Exit(ExitCode.PUSH_FAILED)


def main() -> None:
    app(prog_name="certpush-dev")


if __name__ == "__main__":
    main()
