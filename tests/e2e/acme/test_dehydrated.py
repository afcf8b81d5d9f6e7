"""Debian's dehydrated against pebble, with samples/hooks/dehydrated-hook.sh as its HOOK."""

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


class Dehydrated:
    def __init__(self, pebble: Pebble, workdir: Path, domain: str) -> None:
        self.binary = need("dehydrated", "the Debian package dehydrated")
        self.workdir = workdir
        self.domains = [f"www.{domain}", f"api.{domain}"]
        self.certificate_id = f"www.{domain}".replace(".", "-")  # certs/NAME is named for the first domain
        self.certificates = workdir / "certs" / self.domains[0]
        self.environment = client_environment()
        self.config = workdir / "config"
        (workdir / "webroot").mkdir()
        # dehydrated's config is shell (docs/examples/config); curl trusts pebble through CURL_OPTS
        self.config.write_text("\n".join([
            f'CA="{pebble.directory_url}"',
            f'BASEDIR="{workdir}"',
            f'WELLKNOWN="{workdir / "webroot"}"',
            'CHALLENGETYPE="http-01"',
            f'CURL_OPTS="--cacert {pebble.ca_bundle}"',
            f'HOOK="{HOOKS / "dehydrated-hook.sh"}"',
            "IP_VERSION=4",  # pebble listens on 127.0.0.1 only: don't try ::1 first
            "KEYSIZE=2048",  # the account key; 4096-bit RSA takes seconds to make
            "",
        ]))  # fmt: skip

    def _dehydrated(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([self.binary, "--config", str(self.config), *args], self.environment, self.workdir)

    def issue(self) -> None:
        # --accept-terms: registers the account first when there is none
        self._dehydrated("--cron", "--accept-terms", *[a for d in self.domains for a in ("--domain", d)])

    def renew(self) -> None:
        self._dehydrated("--cron", "--force", *[a for d in self.domains for a in ("--domain", d)])

    def run_hook_again(self) -> subprocess.CompletedProcess[str]:
        files = [str(self.certificates / f) for f in ("privkey.pem", "cert.pem", "fullchain.pem", "chain.pem")]
        timestamp = (self.certificates / "cert.pem").resolve().stem.removeprefix("cert-")
        return run([str(HOOKS / "dehydrated-hook.sh"), "deploy_cert", self.domains[0], *files, timestamp],
                   self.environment, self.workdir)  # fmt: skip

    def certificate_pem(self) -> str:
        return (self.certificates / "cert.pem").read_text()


def test_dehydrated_hook_imports_pushes_and_renews_in_place(cli, stack, pebble, tmp_path):
    domain = unique_domain("dehydrated")
    issue_push_renew_and_run_again(cli, stack, Dehydrated(pebble, tmp_path, domain), domain)
