"""`certpush hooks install certbot|lego|dehydrated`: puts certpush's deploy hook where the ACME client
runs it from anywhere (cron, a systemd timer: working directory /, a bare PATH, none of your shell's
variables), with the absolute path of this certpush and the backend it talks to written into it.

- certbot runs every executable in ``CONFIG_DIR/renewal-hooks/deploy/`` after each renewal (certbot
  User Guide, "Renewing certificates": pre, deploy and post hook directories), whatever hooks the
  lineage was issued with: the hook goes there;
- lego runs the command given to ``--run-hook`` / ``--renew-hook`` (lego CLI reference): the hook goes
  to a folder of certpush's, and this prints the absolute path to give lego;
- dehydrated runs its config's ``HOOK`` (dehydrated docs/examples/config, ``HOOK_CHAIN=no``: one
  ``deploy_cert`` per certificate): the hook goes to a folder of certpush's, and this prints the two
  lines for the config.

The hook's body is the sample's (``samples/hooks/*`` are these same files): what is written in is the
``certpush-settings`` block. Credentials are never written: on a stack, the hook uses boto3's default
chain (the instance's role, or ``~/.aws`` of the user the client runs as); only the non-secret AWS
settings of this shell (region, profile, endpoint, config file paths) are."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from certpush_cli.exit_codes import ExitCode, Failure, user_errors
from certpush_cli.options import HomeOption, StackOption
from certpush_cli.output import err, out

SCRIPTS = Path(__file__).parent.parent / "hook_scripts"
SETTINGS_MARK = "# certpush-settings:"
WRITTEN_BY = "# written by `certpush hooks install"
# what a stack's hook keeps of this shell: where and how to reach AWS, never a secret
AWS_SETTINGS = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
)
CERTBOT_CONFIG_DIR = Path("/etc/letsencrypt")

app = typer.Typer(
    help="Deploy hooks for ACME clients (certbot, lego, dehydrated) that keep pushing unattended.",
    no_args_is_help=True,
)


class Client(StrEnum):
    certbot = "certbot"
    lego = "lego"
    dehydrated = "dehydrated"


SCRIPT_OF = {
    Client.certbot: "certbot-deploy-hook.sh",
    Client.lego: "lego-hook.sh",
    Client.dehydrated: "dehydrated-hook.sh",
}


def default_hook_folder(environ: dict[str, str] | None = None) -> Path:
    """Where lego's and dehydrated's hooks go: ``${XDG_DATA_HOME:-~/.local/share}/certpush/hooks``."""
    environ = dict(os.environ) if environ is None else environ
    data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data).expanduser() / "certpush" / "hooks"


def this_certpush() -> Path:
    """The certpush command of this installation: beside this interpreter (a virtualenv, pipx), else
    on PATH, else the command that runs now."""
    beside = Path(sys.executable).parent / "certpush"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside.absolute()
    found = shutil.which("certpush")
    if found:
        return Path(found).absolute()
    return Path(sys.argv[0]).absolute()


def settings_block(
    client: Client, certpush: Path, stack: str | None, home: Path | None, environ: dict[str, str]
) -> list[str]:
    """The lines the hook gets in place of its ``certpush-settings`` mark."""
    q = shlex.quote
    lines = [
        f"{WRITTEN_BY} {client.value}` (certpush {_version()}) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC:",
        "# the certpush to run and the backend it talks to, whatever the client's environment holds",
        f"CERTPUSH={q(str(certpush))}",
    ]
    if stack:
        lines += [f"export CERTPUSH_STACK={q(stack)}", "unset CERTPUSH_HOME"]
        kept = [(name, environ[name]) for name in AWS_SETTINGS if environ.get(name)]
        if kept:
            lines.append("# this shell's AWS settings (no credentials: boto3's default chain finds those)")
            lines += [f"export {name}={q(value)}" for name, value in kept]
    else:
        assert home is not None
        lines += [f"export CERTPUSH_HOME={q(str(home))}", "unset CERTPUSH_STACK"]
    return lines


def _version() -> str:
    from certpush_cli.main import VERSION

    return VERSION


def render(client: Client, settings: list[str]) -> str:
    """The sample hook with its settings written in."""
    script = (SCRIPTS / SCRIPT_OF[client]).read_text()
    lines = script.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(SETTINGS_MARK))
    return "\n".join([*lines[:at], *settings, *lines[at + 1 :]]) + "\n"


def _destination(client: Client, dest: Path | None, config_dir: Path | None) -> Path:
    if client is Client.certbot:
        if dest is not None:
            return dest.absolute() / "certpush"
        return (config_dir or CERTBOT_CONFIG_DIR).absolute() / "renewal-hooks" / "deploy" / "certpush"
    if config_dir is not None:
        raise Failure("--config-dir is certbot's; for lego and dehydrated give --dest DIR", ExitCode.USAGE)
    return (dest.absolute() if dest else default_hook_folder()) / f"{client.value}-hook"


def write_hook(path: Path, text: str, force: bool) -> None:
    """Writes the hook (mode 0755) in one rename; another file of that name is kept unless ``force``."""
    if path.exists() and WRITTEN_BY not in path.read_text(errors="replace") and not force:
        raise Failure(f"{path} exists and was not written by certpush; hint: --force replaces it, or choose --dest")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.chmod(0o755)
    partial.replace(path)


@app.command("install")
def install(
    client: Annotated[Client, typer.Argument(help="The ACME client: certbot, lego or dehydrated.")],
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            help="Folder for the hook (certbot: its renewal-hooks/deploy folder; others: "
            "${XDG_DATA_HOME:-~/.local/share}/certpush/hooks).",
            show_default=False,
        ),
    ] = None,
    config_dir: Annotated[
        Path | None,
        typer.Option(
            "--config-dir",
            help="certbot's --config-dir (default /etc/letsencrypt): the hook goes to its renewal-hooks/deploy.",
            show_default=False,
        ),
    ] = None,
    certpush: Annotated[
        Path | None,
        typer.Option("--certpush", help="The certpush command the hook runs (default: this one).", show_default=False),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file of that name not written by certpush.")
    ] = False,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Install the deploy hook of an ACME client, so that renewals keep pushing unattended: it imports
    the renewed certificate, waits for the pushes its policies make, prints progress on standard output
    and fails (exit non-zero, the reason on standard error) when a push failed, so the client reports
    it. Written into it: the absolute path of certpush and the backend (--stack NAME, else the home:
    --home DIR, CERTPUSH_HOME or the default home)."""
    with user_errors():
        if stack and home:
            raise Failure(
                "name a stack or a home, not both; hint: unset CERTPUSH_STACK or CERTPUSH_HOME", ExitCode.USAGE
            )
        if not stack:
            from certpush_cli.host.home import default_home

            home = (home or default_home()).expanduser().absolute()
        command = (certpush or this_certpush()).expanduser().absolute()
        if not (command.is_file() and os.access(command, os.X_OK)):
            raise Failure(f"{command} is not an executable certpush; hint: --certpush PATH")
        path = _destination(client, dest, config_dir)
        write_hook(path, render(client, settings_block(client, command, stack, home, dict(os.environ))), force)
    backend = f"stack {stack}" if stack else f"home {home}"
    out.print(f"installed {path} (runs {command} against the {backend})")
    if client is Client.certbot:
        out.print("certbot runs it after every renewal (certbot renew, from cron or its systemd timer)")
    elif client is Client.lego:
        out.print(f"give it to lego: lego ... run --run-hook {path}   and   lego ... renew --renew-hook {path}")
    else:
        out.print("add these lines to dehydrated's config (e.g. /etc/dehydrated/config):")
        out.print(f"HOOK={shlex.quote(str(path))}")
        out.print("HOOK_CHAIN=no")
    if stack:
        err.print(
            "note: the hook uses the AWS credentials of the user the client runs as (an instance role, or "
            "~/.aws); none were written into it"
        )
