"""Hooks that keep working unattended (issue 20 item 1): `certpush hooks install certbot` puts the deploy
hook in certbot's renewal-hooks/deploy folder with the absolute path of certpush and the stack written
in; `certbot renew` run as a timer runs it (working directory /, PATH=/usr/bin:/bin, no CERTPUSH_*
variable, the AWS credentials of the user the timer runs as in ~/.aws) pushes the renewal before it
returns, and a failed push makes certbot report the hook failed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from certpush_dev.local.stack import EmbeddedStack
from tests.e2e.acme.conftest import Pebble, client_environment, need, run, unique_domain
from tests.e2e.conftest import CliResult

pytestmark = pytest.mark.e2e

TARGET = "huaweicloud:waf=cn-north-4"


def _timer_environment(home: Path, pebble: Pebble) -> dict[str, str]:
    """What a systemd timer or cron gives `certbot renew`: a bare PATH, HOME, nothing of certpush's;
    certbot's own trust of pebble (REQUESTS_CA_BUNDLE) is the only addition. The stack's AWS
    credentials are the user's (~/.aws), as an instance role or a profile would be."""
    aws = home / ".aws"
    aws.mkdir(parents=True)
    (aws / "credentials").write_text(
        "[default]\n"
        f"aws_access_key_id = {os.environ['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {os.environ['AWS_SECRET_ACCESS_KEY']}\n"
        f"aws_session_token = {os.environ['AWS_SESSION_TOKEN']}\n"
    )
    (aws / "config").write_text("[default]\naccount_id_endpoint_mode = disabled\n")
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "REQUESTS_CA_BUNDLE": str(pebble.ca_bundle)}


class _Lineage:
    def __init__(self, pebble: Pebble, workdir: Path) -> None:
        self.certbot = need("certbot", "certbot (pip, requirements/dev.lock)")
        self.pebble = pebble
        self.workdir = workdir
        self.domain = unique_domain("timer")
        self.certificate_id = f"www.{self.domain}".replace(".", "-")
        self.directories = [f"--{d}-dir={workdir / d}" for d in ("config", "work", "logs")]

    def issue(self) -> Path:
        """certonly, no hook of its own: what certbot saved for the lineage runs no certpush."""
        (self.workdir / "webroot").mkdir()
        run([self.certbot, "certonly", "--server", self.pebble.directory_url, "--agree-tos",
             "--register-unsafely-without-email", "--webroot", "-w", str(self.workdir / "webroot"),
             "-d", f"www.{self.domain}", *self.directories, "--non-interactive"],
            client_environment(REQUESTS_CA_BUNDLE=str(self.pebble.ca_bundle)), self.workdir)  # fmt: skip
        return self.workdir / "config" / "live" / f"www.{self.domain}"

    def renew_from_a_timer(self, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # certbot of this virtualenv, by its absolute path, as the timer's unit names it
            [self.certbot, "renew", "--force-renewal", "--no-random-sleep-on-renew", *self.directories,
             "--non-interactive"],
            env=environment, cwd="/", capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip


def _install(cli: Callable[..., CliResult], stack: EmbeddedStack, workdir: Path) -> Path:
    installed = cli("hooks", "install", "certbot", "--config-dir", str(workdir / "config"), "--stack", stack.stack_name)
    hook = workdir / "config" / "renewal-hooks" / "deploy" / "certpush"
    assert f"installed {hook}" in installed.stdout
    text = hook.read_text()
    assert "CERTPUSH=/" in text and f"CERTPUSH_STACK={stack.stack_name}" in text
    assert "aws_secret_access_key" not in text.lower() and os.environ["AWS_SECRET_ACCESS_KEY"] not in text
    return hook


def test_certbot_renew_from_a_timer_pushes_the_renewal(cli, stack, pebble, tmp_path):
    lineage = _Lineage(pebble, tmp_path)
    policy = f"timer-{lineage.certificate_id[-8:]}"
    cli("policies", "add", policy, "--pattern", f"*.{lineage.domain}", "--to", TARGET)
    try:
        live = lineage.issue()
        cli("certificates", "import", "--from-certbot", str(live), "--wait")  # version 1, pushed
        _install(cli, stack, tmp_path)

        renewed = lineage.renew_from_a_timer(_timer_environment(tmp_path / "root", pebble))
    finally:
        cli("policies", "remove", policy)

    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    hook_log = (tmp_path / "logs" / "letsencrypt.log").read_text()
    assert "error output" not in hook_log and "error code" not in hook_log, hook_log[-3000:]  # progress is no error
    # the hook waited for the push: version 2 is in place when certbot returns (no polling here)
    records = {r["version"]: r for r in cli("records", lineage.certificate_id, "--json").json()}
    assert sorted(records) == [1, 2]
    assert records[2]["status"] == "SUCCEEDED" and records[2]["region"] == "cn-north-4", records[2]
    assert "certpush hook: importing" in hook_log and "SUCCEEDED" in hook_log


def test_a_failed_push_makes_certbot_report_the_hook_failed(cli, stack, pebble, tmp_path):
    """WAF not purchased in the policy's region: the push FAILED, the hook exits 1 with the reason and its
    hint on standard error, and certbot says the deploy hook failed (the renewed files stay)."""
    lineage = _Lineage(pebble, tmp_path)
    policy = f"timer-{lineage.certificate_id[-8:]}"
    cli("policies", "add", policy, "--pattern", f"*.{lineage.domain}", "--to", "huaweicloud:waf=la-north-2")
    stack.emulators["huaweicloud"].set_service_purchased("waf", "la-north-2", purchased=False)
    try:
        lineage.issue()
        _install(cli, stack, tmp_path)
        renewed = lineage.renew_from_a_timer(_timer_environment(tmp_path / "root", pebble))
    finally:
        stack.emulators["huaweicloud"].set_service_purchased("waf", "la-north-2", purchased=True)
        cli("policies", "remove", policy)

    hook_log = (tmp_path / "logs" / "letsencrypt.log").read_text()
    # certbot's words for a hook that failed (certbot/display/ops.py: "reported error code", "ran with error output")
    assert "reported error code 1" in hook_log and "ran with error output" in hook_log, renewed.stderr
    assert "FAILED" in hook_log and "hint: WAF.00012005" in hook_log, hook_log[-3000:]
    [record] = cli("records", lineage.certificate_id, "--json").json()
    assert record["status"] == "FAILED" and record["reason"] == "WAF.00012005", record
