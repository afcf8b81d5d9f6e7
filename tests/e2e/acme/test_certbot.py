"""certbot (from PyPI) against pebble, with samples/hooks/certbot-deploy-hook.sh as its deploy hook."""

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


class Certbot:
    def __init__(self, pebble: Pebble, workdir: Path, domain: str) -> None:
        self.binary = need("certbot", "certbot (pip, requirements/dev.lock)")
        self.pebble = pebble
        self.workdir = workdir
        self.domains = [f"www.{domain}", f"api.{domain}"]
        self.certificate_id = f"www.{domain}".replace(".", "-")  # the lineage is named for the first domain
        self.lineage = workdir / "config" / "live" / f"www.{domain}"
        self.environment = client_environment(REQUESTS_CA_BUNDLE=str(pebble.ca_bundle))

    def _certbot(self, *args: str) -> subprocess.CompletedProcess[str]:
        directories = [f"--{d}-dir={self.workdir / d}" for d in ("config", "work", "logs")]
        return run([self.binary, *args, *directories, "--non-interactive"], self.environment, self.workdir)

    def issue(self) -> None:
        (self.workdir / "webroot").mkdir()
        self._certbot("certonly", "--server", self.pebble.directory_url, "--agree-tos",
                      "--register-unsafely-without-email", "--webroot", "-w", str(self.workdir / "webroot"),
                      *[a for d in self.domains for a in ("-d", d)],
                      "--deploy-hook", str(HOOKS / "certbot-deploy-hook.sh"))  # fmt: skip

    def renew(self) -> None:
        self._certbot("renew", "--force-renewal", "--no-random-sleep-on-renew")

    def run_hook_again(self) -> subprocess.CompletedProcess[str]:
        environment = {**self.environment, "RENEWED_LINEAGE": str(self.lineage),
                       "RENEWED_DOMAINS": " ".join(self.domains)}  # fmt: skip
        return run([str(HOOKS / "certbot-deploy-hook.sh")], environment, self.workdir)

    def certificate_pem(self) -> str:
        return (self.lineage / "cert.pem").read_text()


def test_certbot_deploy_hook_imports_pushes_and_renews_in_place(cli, stack, pebble, tmp_path):
    domain = unique_domain("certbot")
    issue_push_renew_and_run_again(cli, stack, Certbot(pebble, tmp_path, domain), domain)
