"""`pip install .` in a clean virtualenv gives a working `certpush` without moto: the wheel is built
from this checkout (``pip wheel --no-deps .``) and installed offline from a wheelhouse made of this
virtualenv's own distributions (``wheelhouse.py``: the versions `make venv` pinned). Then, through
the installed command only: `certpush serve --simulate` (Huawei Cloud simulated; AWS not, and it says
which extra it needs), an import and a `push --wait`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.host import wheelhouse
from tests.host.conftest import ROOT, Serve, copies, eventually, host_environment

pytestmark = pytest.mark.host


def _run(
    command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with certpush installed from a wheel of this checkout; its bin directory."""
    work = tmp_path_factory.mktemp("fresh-install")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(ROOT)])
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("certpush-*.whl")
    wheelhouse.build(["certpush"], work / "wheels", exclude=["certpush"])
    venv = work / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    install = _run([
        sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile",
        "--no-index", "--find-links", str(work / "wheels"), str(wheel),
    ])  # fmt: skip
    assert install.returncode == 0, install.stderr
    return venv / "bin"


def test_the_installed_command_serves_imports_and_pushes_without_moto(installed: Path, home: Path, tmp_path: Path):
    probe = _run([str(installed / "python"), "-c", "import importlib.util as u; print(u.find_spec('moto'))"])
    assert probe.stdout.strip() == "None"
    env = host_environment(home, PATH=f"{installed}{os.pathsep}{os.environ['PATH']}")
    env.pop("PYTHONPATH", None)

    def certpush(*args: str) -> subprocess.CompletedProcess[str]:
        return _run([str(installed / "certpush"), *args], env=env, cwd=tmp_path)  # not the checkout

    serve = Serve(home, tmp_path / "serve.log")
    with (tmp_path / "serve.log").open("ab") as log:
        serve.process = subprocess.Popen(
            [str(installed / "certpush"), "serve", "--simulate", "--port", "0"], env=env, cwd=tmp_path, stdout=log,
            stderr=log,
        )  # fmt: skip
    serve.started.append(serve.process)
    try:
        eventually(serve._ready, 120, "the installed certpush serve")
        assert "pip install 'certpush[simulate]'" in serve.log.read_text()

        assert certpush("sample-certificate", "--domain", "fresh.example.com", "--out", "pem").returncode == 0
        pem = tmp_path / "pem"
        imported = certpush(
            "certificates", "import", "--id", "fresh", "--no-push", "--cert", str(pem / "certificate.pem"),
            "--chain", str(pem / "certificate.chain.pem"), "--key", str(pem / "certificate.key.pem"),
        )  # fmt: skip
        assert imported.returncode == 0, imported.stderr
        pushed = certpush("push", "fresh", "--to", "huaweicloud:waf=cn-north-4", "--to", "aws:elb=us-east-1",
                          "--wait", "--json")  # fmt: skip

        assert pushed.returncode == 1, pushed.stdout + pushed.stderr  # AWS could not be pushed: not simulated
        records = {r["provider"]: r for r in json.loads(pushed.stdout)}
        assert records["huaweicloud"]["status"] == "SUCCEEDED"
        assert (records["aws"]["status"], records["aws"]["reason"]) == ("FAILED", "NOT_CONFIGURED")
        assert "certpush[simulate]" in records["aws"]["message"]
        assert copies(home, "waf", "cn-north-4", "certpush-fresh-v1") == 1
        assert serve.terminate() == 0
    finally:
        serve.stop_all()
