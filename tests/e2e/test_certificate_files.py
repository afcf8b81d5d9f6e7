"""Certificate files as people have them, through `certpush certificates import` and a push to
every target: chains from a CA without key identifiers and with their root, expired leaves,
combined cert+key and fullchain files, DER and PKCS#12."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certpush_cli.sample_certificates import SampleCertificate, make_certificate

pytestmark = pytest.mark.e2e

EVERY_TARGET = ["--to", "aws:elb=us-east-1", "--to", "huaweicloud:waf=cn-north-4", "--to", "huaweicloud:elb=cn-north-4"]


def _files(tmp_path: Path, **contents: str | bytes) -> dict[str, str]:
    paths = {}
    for name, content in contents.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        paths[name] = str(path)
    return paths


def _nothing_stored(cli, certificate_id: str) -> None:
    shown = cli("certificates", "show", certificate_id, expect=3)
    assert "not in the inventory" in shown.stderr
    secrets = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert not [s for s in secrets if f"/{certificate_id}/" in s["Name"]]


def test_a_ca_without_key_identifiers_with_the_root_in_the_chain_pushes_to_every_target(cli, tmp_path, certificate_id):
    plain = make_certificate(f"{certificate_id}.example.com", key_identifiers=False)
    files = _files(tmp_path, cert=plain.certificate_pem, key=plain.private_key_pem,
                   chain=plain.chain_pem + plain.root_pem)  # fmt: skip

    imported = cli("certificates", "import", "--id", certificate_id, "--no-push", "--json",
                   "--cert", files["cert"], "--key", files["key"], "--chain", files["chain"])  # fmt: skip
    assert imported.json()["warnings"] == []
    cli("push", certificate_id, *EVERY_TARGET, "--wait", "--timeout", "90")

    records = cli("records", certificate_id, "--json").json()
    assert {(r["provider"], r["service"]): r["status"] for r in records} == {
        ("aws", "elb"): "SUCCEEDED", ("huaweicloud", "waf"): "SUCCEEDED", ("huaweicloud", "elb"): "SUCCEEDED",
    }  # fmt: skip


def test_an_expired_certificate_with_its_root_imports_with_a_warning_and_is_rejected_as_expired(
    cli, tmp_path, certificate_id
):
    old = make_certificate(
        f"{certificate_id}.example.com", days=30, not_before=datetime.now(UTC) - timedelta(days=60),
        key_identifiers=False,
    )  # fmt: skip
    files = _files(tmp_path, cert=old.certificate_pem, key=old.private_key_pem, chain=old.chain_pem + old.root_pem)

    imported = cli("certificates", "import", "--id", certificate_id, "--no-push",
                   "--cert", files["cert"], "--key", files["key"], "--chain", files["chain"])  # fmt: skip
    assert "warning: EXPIRED" in imported.stderr
    cli("push", certificate_id, *EVERY_TARGET, "--wait", "--timeout", "90", expect=1)

    records = cli("records", certificate_id, "--json").json()
    assert len(records) == 3 and {(r["status"], r["reason"]) for r in records} == {("REJECTED", "EXPIRED")}


def test_a_certificate_file_holding_its_key_is_refused_and_nothing_is_stored(cli, tmp_path, certificate_id):
    sample = make_certificate(f"{certificate_id}.example.com")
    files = _files(tmp_path, combined=sample.certificate_pem + sample.private_key_pem, key=sample.private_key_pem)

    refused = cli("certificates", "import", "--id", certificate_id, "--no-push",
                  "--cert", files["combined"], "--key", files["key"], expect=3)  # fmt: skip

    assert "the --cert file holds a private key" in refused.stderr
    assert "PRIVATE_KEY_OUTSIDE_KEY_FILE" in refused.stderr
    assert "PRIVATE KEY-----" not in refused.stdout + refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    _nothing_stored(cli, certificate_id)


def test_a_fullchain_file_is_refused_unless_chain_from_cert(cli, tmp_path, certificate_id):
    sample = make_certificate(f"{certificate_id}.example.com")
    files = _files(tmp_path, fullchain=sample.certificate_pem + sample.chain_pem, key=sample.private_key_pem)
    args = ["certificates", "import", "--id", certificate_id, "--no-push", "--cert", files["fullchain"],
            "--key", files["key"]]  # fmt: skip

    refused = cli(*args, expect=3)
    assert "holds 2 certificates" in refused.stderr and "--chain-from-cert" in refused.stderr
    _nothing_stored(cli, certificate_id)

    cli(*args, "--chain-from-cert")
    shown = cli("certificates", "show", certificate_id, "--json").json()
    assert [v["version"] for v in shown] == [1]


def test_der_files_and_a_pkcs12_file_import(cli, tmp_path, certificate_id, monkeypatch):
    sample = make_certificate(f"{certificate_id}.example.com")
    key = serialization.load_pem_private_key(sample.private_key_pem.encode(), None)
    cert = x509.load_pem_x509_certificate(sample.certificate_pem.encode())
    chain = x509.load_pem_x509_certificates(sample.chain_pem.encode())
    der = _files(
        tmp_path,
        cert=cert.public_bytes(serialization.Encoding.DER),
        key=key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        chain=chain[0].public_bytes(serialization.Encoding.DER),
    )  # fmt: skip
    encryption = serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(1).build(b"pw")
    p12 = _files(tmp_path, p12=pkcs12.serialize_key_and_certificates(b"x", key, cert, chain, encryption))  # type: ignore[arg-type]

    cli("certificates", "import", "--id", certificate_id, "--no-push",
        "--cert", der["cert"], "--key", der["key"], "--chain", der["chain"])  # fmt: skip
    monkeypatch.setenv("CERTPUSH_PKCS12_PASSWORD", "pw")
    # the same certificate, key and chain as the DER files: read alike, so nothing new is stored
    same = cli("certificates", "import", "--id", certificate_id, "--no-push", "--pkcs12", p12["p12"])
    monkeypatch.setenv("CERTPUSH_PKCS12_PASSWORD", "wrong")
    wrong = cli("certificates", "import", "--id", certificate_id, "--no-push", "--pkcs12", p12["p12"], expect=3)

    assert "already imported as version 1" in same.stdout
    assert "PKCS12_PASSWORD" in wrong.stderr
    versions = cli("certificates", "show", certificate_id, "--json").json()
    assert [v["version"] for v in versions] == [1]


def test_a_certificate_without_san_imports_with_a_warning_and_no_sans(cli, tmp_path, certificate_id):
    bare = make_certificate(f"{certificate_id}.example.com", subject_alt_name=False)
    files = _files(tmp_path, cert=bare.certificate_pem, key=bare.private_key_pem, chain=bare.chain_pem)

    imported = cli("certificates", "import", "--id", certificate_id, "--no-push",
                   "--cert", files["cert"], "--key", files["key"], "--chain", files["chain"])  # fmt: skip

    assert "warning: NO_SAN" in imported.stderr
    assert "(no SANs)" in imported.stdout
    assert json.loads(cli("certificates", "show", certificate_id, "--json").stdout)[0]["sans"] == []


@pytest.mark.parametrize("bad_id", ["../../etc", "has space", "ünïcode#1", "x" * 129, "_underscore_first"])
def test_ids_outside_the_rule_are_refused_at_the_command_line(cli, tmp_path, bad_id):
    sample: SampleCertificate = make_certificate("bad-id.example.com")
    files = _files(tmp_path, cert=sample.certificate_pem, key=sample.private_key_pem)

    imported = cli("certificates", "import", "--id", bad_id, "--no-push",
                   "--cert", files["cert"], "--key", files["key"], expect=3)  # fmt: skip
    pushed = cli("push", bad_id, "--to", "aws:elb=us-east-1", expect=3)

    for result in (imported, pushed):
        assert "is not a certificate id" in result.stderr and "1 to 128 characters" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
