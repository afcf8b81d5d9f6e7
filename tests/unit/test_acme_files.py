"""Finding the certificate in what certbot, dehydrated and lego write (layouts built here, in tmp)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from certpush.models.domain import CERTIFICATE_ID_PATTERN
from certpush_cli.acme_files import AcmeFilesError, certificate_id_for, find_acme_files, read_material
from certpush_cli.main import app
from certpush_cli.sample_certificates import SampleCertificate

pytestmark = pytest.mark.unit

ID_RULE = re.compile(CERTIFICATE_ID_PATTERN)


def _certbot_lineage(root: Path, sample: SampleCertificate, name: str = "www.example.com") -> Path:
    archive = root / "archive" / name
    live = root / "live" / name
    archive.mkdir(parents=True)
    live.mkdir(parents=True)
    for stem, text in (("cert", sample.certificate_pem), ("chain", sample.chain_pem),
                       ("privkey", sample.private_key_pem)):  # fmt: skip
        (archive / f"{stem}1.pem").write_text(text)
        os.symlink(f"../../archive/{name}/{stem}1.pem", live / f"{stem}.pem")
    (live / "README").write_text("certbot's README\n")
    return live


def _dehydrated(root: Path, sample: SampleCertificate, name: str = "www.example.com") -> Path:
    directory = root / "certs" / name
    directory.mkdir(parents=True)
    for stem, text in (("cert", sample.certificate_pem), ("chain", sample.chain_pem),
                       ("privkey", sample.private_key_pem)):  # fmt: skip
        (directory / f"{stem}-1795898151.pem").write_text(text)
        os.symlink(f"{stem}-1795898151.pem", directory / f"{stem}.pem")
    return directory


def _lego(root: Path, sample: SampleCertificate, domain: str = "www.example.com", bundle: bool = True) -> Path:
    certificates = root / ".lego" / "certificates"
    certificates.mkdir(parents=True, exist_ok=True)
    stem = domain.replace("*", "_")
    (certificates / f"{stem}.crt").write_text(sample.certificate_pem + (sample.chain_pem if bundle else ""))
    (certificates / f"{stem}.issuer.crt").write_text(sample.chain_pem)
    (certificates / f"{stem}.key").write_text(sample.private_key_pem)
    (certificates / f"{stem}.json").write_text("{}")
    return root / ".lego"


def test_a_certbot_lineage_is_read_through_its_symlinks(tmp_path: Path, sample: SampleCertificate):
    found = find_acme_files(_certbot_lineage(tmp_path, sample))

    material = read_material(found)

    assert (found.layout, found.name, found.certificate_id) == ("certbot", "www.example.com", "www-example-com")
    assert material.certificate_pem == sample.certificate_pem
    assert material.chain_pem == sample.chain_pem
    assert material.private_key_pem.get_secret_value() == sample.private_key_pem


def test_a_dehydrated_certificate_folder_is_read(tmp_path: Path, sample: SampleCertificate):
    found = find_acme_files(_dehydrated(tmp_path, sample, "star_example_com"))

    assert (found.layout, found.certificate_id) == ("dehydrated", "star-example-com")
    assert read_material(found).certificate_pem == sample.certificate_pem


@pytest.mark.parametrize("where", [".lego", ".lego/certificates"])
def test_a_lego_bundle_is_split_into_certificate_and_chain(tmp_path: Path, sample: SampleCertificate, where: str):
    _lego(tmp_path, sample)

    found = find_acme_files(tmp_path / where)
    material = read_material(found)

    assert (found.layout, found.certificate_id) == ("lego", "www-example-com")
    assert material.certificate_pem == sample.certificate_pem
    assert material.chain_pem == sample.chain_pem


def test_a_lego_bundle_without_its_issuer_file_keeps_the_bundled_chain(tmp_path: Path, sample: SampleCertificate):
    lego = _lego(tmp_path, sample)
    (lego / "certificates" / "www.example.com.issuer.crt").unlink()

    material = read_material(find_acme_files(lego))

    assert material.certificate_pem == sample.certificate_pem
    assert material.chain_pem == sample.chain_pem


def test_several_lego_certificates_need_a_domain(tmp_path: Path, sample: SampleCertificate, renewed):
    _lego(tmp_path, sample)
    lego = _lego(tmp_path, renewed, "*.example.com", bundle=False)

    with pytest.raises(AcmeFilesError, match="--domain"):
        find_acme_files(lego)
    wildcard = find_acme_files(lego, domain="*.example.com")

    assert (wildcard.name, wildcard.certificate_id) == ("_.example.com", "wildcard-example-com")
    assert read_material(wildcard).certificate_pem == renewed.certificate_pem
    with pytest.raises(AcmeFilesError, match=r"no lego certificate for shop\.example\.com"):
        find_acme_files(lego, domain="shop.example.com")


def test_certbot_only_refuses_other_layouts(tmp_path: Path, sample: SampleCertificate):
    lego = _lego(tmp_path, sample)

    with pytest.raises(AcmeFilesError, match="not a certbot lineage"):
        find_acme_files(lego, certbot_only=True)


@pytest.mark.parametrize("make", ["empty", "missing", "file"])
def test_a_folder_without_certificate_files_says_what_it_expected(tmp_path: Path, make: str):
    target = tmp_path / "here"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("x")

    with pytest.raises(AcmeFilesError, match=r"cert\.pem|not a directory"):
        find_acme_files(target)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("*.example.com", "wildcard-example-com"),
        ("_.example.com", "wildcard-example-com"),
        ("example.com-0001", "example-com-0001"),
        ("Shop.Example.COM", "shop-example-com"),
        ("xn--bcher-kva.example", "xn--bcher-kva-example"),
    ],
)
def test_certificate_ids_from_names(name: str, expected: str):
    assert certificate_id_for(name) == expected


@given(st.text(max_size=300))
def test_every_name_gives_a_valid_certificate_id(name: str):
    assert ID_RULE.match(certificate_id_for(name))


@pytest.mark.parametrize(
    "args",
    [
        ["--from-dir", "x", "--cert", "c.pem"],
        ["--from-dir", "x", "--from-certbot", "y"],
        ["--cert", "c.pem"],
        [],
    ],
)
def test_conflicting_or_missing_sources_are_one_line_errors(args: list[str]):
    result = CliRunner().invoke(app, ["certificates", "import", *args], catch_exceptions=False)

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: give "), result.output
