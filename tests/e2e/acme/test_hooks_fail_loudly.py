"""The hooks fail loudly: run outside their client, or pointed at a folder without a certificate,
they exit non-zero with one line that says why (the ACME client then reports the hook failed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.acme.conftest import HOOKS, client_environment

pytestmark = pytest.mark.e2e


def _hook(name: str, args: list[str], environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # the repository's own scripts
        [str(HOOKS / name), *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _calls(empty: Path) -> dict[str, tuple[str, list[str], dict[str, str]]]:
    files = [str(empty / f) for f in ("privkey.pem", "cert.pem", "fullchain.pem", "chain.pem")]
    return {
        "certbot": ("certbot-deploy-hook.sh", [], {"RENEWED_LINEAGE": str(empty), "RENEWED_DOMAINS": "x.example"}),
        "lego": ("lego-hook.sh", [], {"LEGO_CERT_DOMAIN": "x.example", "LEGO_CERT_PATH": f"{empty}/x.example.crt",
                                      "LEGO_CERT_KEY_PATH": f"{empty}/x.example.key"}),
        "dehydrated": ("dehydrated-hook.sh", ["deploy_cert", "x.example", *files, "1"], {}),
    }  # fmt: skip


@pytest.mark.parametrize("client", ["certbot", "lego", "dehydrated"])
def test_a_hook_without_its_clients_variables_says_so(client: str, tmp_path: Path):
    name, _, _ = _calls(tmp_path)[client]
    args = ["deploy_cert"] if client == "dehydrated" else []

    done = _hook(name, args, {k: v for k, v in client_environment().items() if not k.startswith(("RENEWED_", "LEGO_"))},
                 tmp_path)  # fmt: skip

    assert done.returncode != 0
    assert "not set" in done.stderr or "needs" in done.stderr, done.stderr


@pytest.mark.parametrize("client", ["certbot", "lego", "dehydrated"])
def test_a_hook_pointed_at_a_folder_without_a_certificate_fails_with_the_reason(client: str, tmp_path: Path):
    name, args, variables = _calls(tmp_path)[client]

    done = _hook(name, args, client_environment(**variables), tmp_path)

    assert done.returncode == 3, done.stdout + done.stderr  # refused: nothing stored
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(tmp_path) in errors[0], done.stderr


def test_the_dehydrated_hook_leaves_other_calls_alone(tmp_path: Path):
    for call in (["deploy_challenge", "x.example", "token", "auth"], ["startup_hook"], ["some_future_hook", "x"]):
        assert _hook("dehydrated-hook.sh", call, client_environment(), tmp_path).returncode == 0
