"""`certpush hooks install lego` and `certpush hooks install dehydrated` (issue 20 item 1): the hook
installed where the command says, given to Debian's lego and dehydrated as the command prints it, run
by them as a timer would (working directory /, PATH=/usr/bin:/bin, nothing of certpush's in the
environment, the user's AWS credentials in ~/.aws): the issued certificate is imported and pushed
before the client returns, and the hook's progress is on standard output."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.acme.conftest import Pebble, need, unique_domain
from tests.e2e.acme.test_hooks_unattended import _timer_environment
from tests.e2e.conftest import CliResult

pytestmark = pytest.mark.e2e

TARGET = "huaweicloud:waf=cn-north-4"


def _install(cli: Callable[..., CliResult], stack: EmbeddedStack, client: str, folder: Path) -> tuple[Path, str]:
    installed = cli("hooks", "install", client, "--dest", str(folder), "--stack", stack.stack_name)
    hook = folder / f"{client}-hook"
    assert f"installed {hook}" in installed.stdout
    assert os.access(hook, os.X_OK)
    text = hook.read_text()
    assert "CERTPUSH=/" in text and f"CERTPUSH_STACK={stack.stack_name}" in text
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in text  # the credentials stay in ~/.aws
    return hook, installed.stdout


def _as_a_timer(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, env=environment, cwd="/", capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{' '.join(command)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture
def policy(cli: Callable[..., CliResult], request: pytest.FixtureRequest) -> Iterator[str]:
    domain = unique_domain(request.param)
    name = f"installed-{domain.split('.')[0]}"
    cli("policies", "add", name, "--pattern", f"*.{domain}", "--to", TARGET)
    yield domain
    cli("policies", "remove", name)


def _pushed(cli: Callable[..., CliResult], certificate_id: str) -> dict[str, object]:
    [record] = cli("records", certificate_id, "--json").json()  # the hook waited: final when the client returns
    return dict(record)


@pytest.mark.parametrize("policy", ["lego"], indirect=True)
def test_an_installed_lego_hook_pushes_what_lego_issues_from_a_timer(cli, stack, pebble: Pebble, tmp_path, policy):
    lego = need("lego", "the Debian package lego")
    hook, said = _install(cli, stack, "lego", tmp_path / "hooks")
    assert f"--run-hook {hook}" in said and f"--renew-hook {hook}" in said
    (tmp_path / "webroot").mkdir()
    environment = {**_timer_environment(tmp_path / "root", pebble), "LEGO_CA_CERTIFICATES": str(pebble.ca_bundle)}

    done = _as_a_timer(
        [lego, "--accept-tos", "--email", "acme@example.com", "--server", pebble.directory_url,
         "--path", str(tmp_path / ".lego"), "--http", "--http.webroot", str(tmp_path / "webroot"),
         "--domains", f"www.{policy}", "run", "--run-hook", str(hook)],
        environment,
    )  # fmt: skip

    assert f"certpush hook: importing www.{policy}" in done.stdout + done.stderr
    record = _pushed(cli, f"www.{policy}".replace(".", "-"))
    assert record["status"] == "SUCCEEDED" and record["region"] == "cn-north-4", record


@pytest.mark.parametrize("policy", ["dehydrated"], indirect=True)
def test_an_installed_dehydrated_hook_pushes_what_dehydrated_issues_from_a_timer(
    cli, stack, pebble: Pebble, tmp_path, policy
):
    dehydrated = need("dehydrated", "the Debian package dehydrated")
    hook, said = _install(cli, stack, "dehydrated", tmp_path / "hooks")
    assert f"HOOK={hook}" in said and "HOOK_CHAIN=no" in said
    (tmp_path / "webroot").mkdir()
    config = tmp_path / "config"
    # the config's HOOK lines are the ones `hooks install` printed, as an operator pastes them
    printed = [line for line in said.splitlines() if line.startswith(("HOOK=", "HOOK_CHAIN="))]
    config.write_text("\n".join([
        f'CA="{pebble.directory_url}"', f'BASEDIR="{tmp_path}"', f'WELLKNOWN="{tmp_path / "webroot"}"',
        'CHALLENGETYPE="http-01"', f'CURL_OPTS="--cacert {pebble.ca_bundle}"', *printed,
        "IP_VERSION=4", "KEYSIZE=2048", "",
    ]))  # fmt: skip

    done = _as_a_timer(
        [dehydrated, "--config", str(config), "--cron", "--accept-terms", "--domain", f"www.{policy}"],
        _timer_environment(tmp_path / "root", pebble),
    )

    assert f"certpush hook: importing www.{policy}" in done.stdout, done.stdout + done.stderr
    record = _pushed(cli, f"www.{policy}".replace(".", "-"))
    assert record["status"] == "SUCCEEDED" and record["region"] == "cn-north-4", record
