"""The one-machine host's own commands: `certpush serve`, `certpush credentials ...`,
`certpush simulators ...` and `certpush events`. (To emulate the AWS deployment instead, with moto:
`certpush-dev stack up`.)"""

from __future__ import annotations

import getpass
import inspect
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from certpush_cli import help_texts
from certpush_cli.exit_codes import ExitCode, Failure, user_errors
from certpush_cli.fixture_commands import register_fixture_commands
from certpush_cli.options import HomeOption
from certpush_cli.output import err, out

if TYPE_CHECKING:
    from certpush.providers.credentials import ProviderCredentials

credentials_app = typer.Typer(
    help="Credentials the one-machine host pushes with, stored encrypted in its home.", no_args_is_help=True
)
simulators_app = typer.Typer(
    help="The simulated clouds of a home run with --simulate (one simulator per provider; moto for AWS when "
    "installed).",
    no_args_is_help=True,
)


def serve(
    home: HomeOption = None,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Push to simulated clouds (each provider's simulator; moto for AWS, with "
            "pip install 'certpush[simulate]') instead of the real ones. Marks the home as simulated "
            "(simulate = true in its config.toml).",
        ),
    ] = False,
    port: Annotated[
        int | None, typer.Option(help="Port of the dashboard and records API on 127.0.0.1 (0: any free port).")
    ] = None,
) -> None:
    """Run certpush on this machine: validate, push, notify, sweep and warn of expiry, with the
    dashboard and records API on 127.0.0.1, until SIGTERM or Ctrl-C. Everything lives in the home
    (SQLite, material encrypted with the home's key file) and survives a restart.

    Pushes go to the real clouds: a provider with credentials of its own with `certpush credentials set
    PROVIDER` (or its variables, e.g. HUAWEICLOUD_ACCESS_KEY / HUAWEICLOUD_SECRET_KEY), AWS with boto3's
    default credentials."""
    from certpush_cli.dashboard import records_api_server
    from certpush_cli.host import serve_lock, simulators
    from certpush_cli.host.home import Home
    from certpush_cli.host.runtime import HostRuntime
    from certpush_cli.host.wiring import Host

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with user_errors():
        try:
            chosen = Home.open(home)
            lock = serve_lock.acquire(chosen)
            if simulate and chosen.mark_simulated():
                err.print(f"{chosen.config_file}: simulate = true (this home now pushes to simulated clouds)")
            host = Host.open(chosen)
            if host.config.simulate:
                host.simulation = simulators.ensure_running(chosen)
                os.environ.update(host.simulation.environment())  # boto3 reads these when it makes a client
                for provider, process in host.simulation.processes.items():
                    err.print(f"simulated {provider} at {process.url}")
                for reason in host.simulation.missing.values():
                    err.print(f"warning: {reason}; its targets fail NOT_CONFIGURED, the others are simulated")
            listen = host.config.port if port is None else port
            server = records_api_server(host.dashboard, listen, name="certpush-serve")
        except OSError as exc:  # the port is taken, or the home cannot be written
            raise Failure(
                f"cannot start: {exc.strerror or exc}; hint: pick another --port", ExitCode.UNREACHABLE
            ) from exc
        runtime = HostRuntime(host).start()
    server.start()
    # the token in the address is this run's: the page sends it, and nothing changes without it
    err.print(f"certpush serve: home {chosen.path}; dashboard {server.page_url} ; SIGTERM or Ctrl-C stops it")
    stopped.wait()
    err.print("stopping: pushes under way finish first")
    server.stop()
    runtime.stop()
    host.close()
    lock.close()
    err.print("stopped")


def _declared(provider: str) -> ProviderCredentials:
    """The credentials ``provider`` declares (``CREDENTIALS`` of its package), or a usage error."""
    from certpush_cli.credentials import provider_credentials

    declared = provider_credentials()
    if provider not in declared:
        raise Failure(
            f"no credentials for {provider!r}; hint: {', '.join(sorted(declared))} "
            "(AWS uses boto3's default credentials)",
            ExitCode.USAGE,
        )
    return declared[provider]


@credentials_app.command("set")
def credentials_set(
    provider: Annotated[str, typer.Argument(help=help_texts.CREDENTIALS_PROVIDER_HELP)],
    access_key: Annotated[str | None, typer.Option(help=help_texts.CREDENTIALS_ACCESS_KEY_HELP)] = None,
    secret_key_stdin: Annotated[
        bool,
        typer.Option("--secret-key-stdin", help=help_texts.CREDENTIALS_SECRET_KEY_HELP),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Store the credentials the host pushes with to a provider (Huawei Cloud: its AK/SK), sealed with AES-GCM
    under the home's key. Their variables (HUAWEICLOUD_ACCESS_KEY and HUAWEICLOUD_SECRET_KEY), when set where
    certpush runs, take precedence."""
    from certpush_cli.host.home import Home
    from certpush_cli.host.wiring import Host

    with user_errors():
        declared = _declared(provider)
        values: dict[str, str] = {}
        try:
            for item in declared.stored_fields:
                if not item.secret:
                    value = (access_key if item is declared.identifier else None) or os.environ.get(item.variable)
                    value = value or input(f"{item.label}: ")
                elif secret_key_stdin:
                    value = sys.stdin.readline()
                else:
                    value = os.environ.get(item.variable) or getpass.getpass(f"{item.label}: ")
                values[item.key] = value.strip()
        except EOFError:  # no terminal and nothing on standard input
            values = {}
        if len(values) < len(declared.stored_fields) or not all(values.values()):
            secret = next(f for f in declared.stored_fields if f.secret)
            raise Failure(
                f"{' and '.join(f.label for f in declared.stored_fields)} are all needed; nothing was stored; "
                f"hint: {declared.identifier.variable} and --secret-key-stdin (or {secret.variable})",
                ExitCode.USAGE,
            )
        host = Host.open(Home.open(home))
        host.credentials.put(provider, values)
        host.close()
    shown = f"{declared.identifier.key} {values[declared.identifier.key][:4]}…"
    out.print(f"{provider} credentials stored ({shown}), encrypted in {host.home.database_file}")


@credentials_app.command("show")
def credentials_show(home: HomeOption = None) -> None:
    """Which credentials the host has, for each provider that declares some (the start of the access key
    only; never a secret)."""
    from certpush_cli.credentials import provider_credentials
    from certpush_cli.host.home import Home
    from certpush_cli.host.wiring import Host

    with user_errors():
        host = Host.open(Home.open(home))
        stored = {provider: host.credentials.get(provider) for provider in provider_credentials()}
        host.close()
    for provider, declared in provider_credentials().items():
        identifier, kept = declared.identifier, stored[provider]
        if declared.from_environment(os.environ) is not None:
            out.print(
                f"{provider}: from {identifier.variable} ({identifier.key} {os.environ[identifier.variable][:4]}…)"
            )
        elif kept:
            out.print(f"{provider}: stored in the home ({identifier.key} {kept[identifier.key][:4]}…)")
        else:
            out.print(f"{provider}: none; hint: certpush credentials set {provider}")


@credentials_app.command("remove")
def credentials_remove(
    provider: Annotated[str, typer.Argument(help=help_texts.CREDENTIALS_PROVIDER_HELP)],
    home: HomeOption = None,
) -> None:
    """Delete stored credentials."""
    from certpush_cli.host.home import Home
    from certpush_cli.host.wiring import Host

    with user_errors():
        host = Host.open(Home.open(home))
        removed = host.credentials.delete(provider)
        host.close()
    out.print(f"{provider} credentials removed" if removed else f"no {provider} credentials were stored")


@simulators_app.command("status")
def simulators_status(home: HomeOption = None) -> None:
    """Where the home's simulated clouds listen, if they run."""
    from certpush_cli.host import simulators
    from certpush_cli.host.home import Home

    with user_errors():
        simulation = simulators.load(Home.open(home))
    if simulation is None or not simulation.running():
        out.print("no simulators run for this home")
        return
    for provider, process in simulation.processes.items():
        out.print(f"{provider} {process.url} (pid {process.pid})")
    for provider, reason in simulation.missing.items():
        out.print(f"{provider}: {reason}")


@simulators_app.command("stop")
def simulators_stop(home: HomeOption = None) -> None:
    """Stop the home's simulated clouds (what they held is gone; the home's records stay)."""
    from certpush_cli.host import simulators
    from certpush_cli.host.home import Home

    with user_errors():
        stopped = simulators.stop(Home.open(home))
    out.print(f"stopped {len(stopped)} simulator process(es)")


def _simulator_url(provider: str, home: Path | None) -> str:
    """Where the home's simulator of ``provider`` listens (started if needed)."""
    from certpush_cli.host import simulators
    from certpush_cli.host.home import Home

    process = simulators.ensure_running(Home.open(home)).processes.get(provider)
    if process is None:
        raise Failure(f"this home runs no {provider} simulator; hint: certpush serve --simulate", ExitCode.REFUSED)
    return str(process.url)


# `certpush simulators add-NAME`: each emulator package's fixtures (certpush_emulators.fixtures)
register_fixture_commands(
    simulators_app,
    "add",
    inspect.Parameter("home", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=HomeOption),
    _simulator_url,
)


def events(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
    kind: Annotated[str | None, typer.Option(help="Only this detail-type, e.g. 'Certificate Push Summary'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of events.")] = False,
    home: HomeOption = None,
) -> None:
    """Events the one-machine host emitted ("Certificate Pushed", summaries, expiry warnings), newest
    first, with how their webhook deliveries went. (On AWS they go to the stack's event bus.)"""
    from certpush_cli.host.home import Home
    from certpush_cli.host.wiring import Host

    with user_errors():
        host = Host.open(Home.open(home))
        found = host.events.recent(limit, kind)
        host.close()
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "id": e.event_id,
                        "detail-type": e.detail_type,
                        "time": e.created_at,
                        "detail": json.loads(e.detail),
                    }
                    for e in found
                ]
            )
        )
        return
    for event in found:
        detail = json.loads(event.detail)
        what = detail.get("outcome") or detail.get("console_url") or detail.get("days_left", "")
        certificate = f"{detail.get('certificate_id')} v{detail.get('version')}"
        out.print(f"{event.created_at[:19]} {event.detail_type:<26} {certificate} {what}")
