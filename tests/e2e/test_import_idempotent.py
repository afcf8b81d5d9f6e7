"""Importing the same material again through the CLI changes nothing and pushes nothing, even with
a push policy that matches it; a renewed certificate is the next version and is pushed."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from certpush_cli.sample_certificates import make_certificate
from tests.e2e.conftest import acm_certificates, eventually, write_material

pytestmark = pytest.mark.e2e


def test_importing_the_same_material_again_creates_no_version_and_pushes_nothing(cli, tmp_path: Path, certificate_id):
    domain = f"{certificate_id}.same.example.com"
    policy = f"s-{certificate_id[-8:]}"
    cli("policies", "add", policy, "--pattern", f"*.{domain}", "--to", "aws:elb=us-east-2")
    sample = make_certificate(f"www.{domain}")
    files = write_material(tmp_path, sample)
    try:
        cli("certificates", "import", "--id", certificate_id, *files)

        def all_final(count: int):
            """Every version's push final: the newest SUCCEEDED, the older ones renewed in place (REPLACED)."""

            def check() -> list[dict[str, object]]:
                found = cli("records", certificate_id, "--json").json()
                wanted = {**{v: "REPLACED" for v in range(1, count)}, count: "SUCCEEDED"}
                return found if {r["version"]: r["status"] for r in found} == wanted else []

            return check

        eventually(all_final(1), what="the policy's push of version 1")

        again = cli("certificates", "import", "--id", certificate_id, *files)

        assert "already imported as version 1" in again.stdout
        assert "Certificate Issued" not in again.stderr
        assert [v["version"] for v in cli("certificates", "show", certificate_id, "--json").json()] == [1]

        # a renewal afterwards is pushed: once it is final, any push the repeat had caused would be too
        renewed = make_certificate(f"www.{domain}")
        renewed_files = write_material(tmp_path, renewed)
        cli("certificates", "import", "--id", certificate_id, *renewed_files)
        records = eventually(all_final(2), what="the policy's push of version 2")

        # a revoked version is not hosted again by importing it again
        cli("certificates", "set-status", certificate_id, "REVOKED")
        revoked = cli("certificates", "import", "--id", certificate_id, *renewed_files)
        assert "already imported as version 2 (REVOKED)" in revoked.stdout
        assert f"set-status {certificate_id} HOSTED" in revoked.stdout
    finally:
        cli("policies", "remove", policy)

    history = cli("history", certificate_id, "--json").json()
    assert sorted((h["version"], h["status"]) for h in history) == [(1, "SUCCEEDED"), (2, "SUCCEEDED")]
    assert [r["replaced_by"] for r in records if r["version"] == 1] == [2]
    (arn,) = {r["target_id"] for r in records}
    serial = format(x509.load_pem_x509_certificate(renewed.certificate_pem.encode()).serial_number, "x")
    assert acm_certificates("us-east-2", serial) == [arn]  # version 2 re-imported in place
