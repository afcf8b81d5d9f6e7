"""The layer build that `sam build` runs (layers/certpush/Makefile), run here for real: wheels for
the Lambda runtime, the certpush package, and neither the CLI nor the embedded stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_holds_certpush_and_runtime_wheels_but_not_the_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "layers" / "certpush"), "build-CertpushLayer",
         f"ARTIFACTS_DIR={tmp_path}", f"PYTHON={sys.executable}"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    python = tmp_path / "python"
    assert (python / "certpush" / "wiring.py").is_file()
    assert (python / "certpush" / "adapters" / "huaweicloud" / "signer.py").is_file()
    assert not (python / "certpush_dev").exists()
    for package in ("aws_lambda_powertools", "httpx", "cryptography", "pydantic"):
        assert (python / package).is_dir(), package
    for absent in ("typer", "rich", "moto", "yaml"):
        assert not (python / absent).exists(), absent
    compiled = [p.name for p in (python / "pydantic_core").glob("*.so")]
    assert compiled and all("cpython-312" in name for name in compiled), compiled
    assert not list(python.rglob("__pycache__"))
