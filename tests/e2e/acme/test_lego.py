"""Debian's lego against pebble, with samples/hooks/lego-hook.sh as its --run-hook and --renew-hook."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.acme.conftest import (
    HOOKS,
    Pebble,
    client_environment,
    issue_push_renew_and_run_again,
    need,
    run,
    unique_domain,
)

pytestmark = pytest.mark.e2e


class Lego:
    def __init__(self, pebble: Pebble, workdir: Path, domain: str) -> None:
        self.binary = need("lego", "the Debian package lego")
        self.pebble = pebble
        self.workdir = workdir
        self.domains = [f"www.{domain}", f"api.{domain}"]
        self.certificate_id = f"www.{domain}".replace(".", "-")  # named for the first domain
        self.certificates = workdir / ".lego" / "certificates"
        self.environment = client_environment(LEGO_CA_CERTIFICATES=str(pebble.ca_bundle))

    def _lego(self, *command: str) -> subprocess.CompletedProcess[str]:
        (self.workdir / "webroot").mkdir(exist_ok=True)
        options = ["--accept-tos", "--email", "acme@example.com", "--server", self.pebble.directory_url,
                   "--path", str(self.workdir / ".lego"), "--http", "--http.webroot", str(self.workdir / "webroot"),
                   *[a for d in self.domains for a in ("--domains", d)]]  # fmt: skip
        return run([self.binary, *options, *command], self.environment, self.workdir)

    def issue(self) -> None:
        self._lego("run", "--run-hook", str(HOOKS / "lego-hook.sh"))

    def renew(self) -> None:
        # --days 9999: renew now, whatever the days left (pebble's certificates last 5 years); without
        # a terminal lego first sleeps up to 8 minutes unless told not to
        self._lego("renew", "--days", "9999", "--no-random-sleep", "--renew-hook", str(HOOKS / "lego-hook.sh"))

    def run_hook_again(self) -> subprocess.CompletedProcess[str]:
        stem = self.certificates / self.domains[0]
        environment = {**self.environment, "LEGO_ACCOUNT_EMAIL": "acme@example.com",
                       "LEGO_CERT_DOMAIN": self.domains[0], "LEGO_CERT_PATH": f"{stem}.crt",
                       "LEGO_CERT_KEY_PATH": f"{stem}.key"}  # fmt: skip
        return run([str(HOOKS / "lego-hook.sh")], environment, self.workdir)

    def certificate_pem(self) -> str:
        return (self.certificates / f"{self.domains[0]}.crt").read_text()


def test_lego_hooks_import_push_and_renew_in_place(cli, stack, pebble, tmp_path):
    domain = unique_domain("lego")
    issue_push_renew_and_run_again(cli, stack, Lego(pebble, tmp_path, domain), domain)
