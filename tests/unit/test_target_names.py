"""Names of certificates in Huawei Cloud's stores: deterministic, valid, and never shared."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from certpush.models.domain import CertificateMaterial, CertificateVersion, PushRequest

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _name(certificate_id: str, version: int = 1) -> str:
    certificate = CertificateVersion(
        certificate_id=certificate_id, version=version, common_name="a.example.com", sans=["a.example.com"],
        fingerprint_sha256="00", serial_number="1", issuer="CN=x", not_before=NOW, not_after=NOW, key_type="EC",
        secret_id="s", imported_at=NOW,
    )  # fmt: skip
    material = CertificateMaterial(certificate_pem="", private_key_pem=SecretStr("x"))
    return PushRequest(certificate=certificate, material=material, region="cn-north-4").deterministic_name


def test_a_short_id_is_readable_in_the_name():
    assert _name("shop-example-com", 3) == "certpush-shop-example-com-v3"


ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=128)


@given(ids, st.integers(min_value=1, max_value=10**6))
def test_names_are_valid_for_every_target(certificate_id: str, version: int):
    name = _name(certificate_id, version)
    assert len(name) <= 64
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", name)
    assert name == _name(certificate_id, version)  # a retry finds the same name
    assert name.endswith(f"-v{version}")


@given(ids, ids)
def test_two_ids_never_share_a_name(first: str, second: str):
    if first != second:
        assert _name(first) != _name(second)


def test_long_ids_that_differ_only_at_the_end_get_different_names():
    common = "a" * 100
    assert _name(common + "-one") != _name(common + "-two")


def _digest(certificate_id: str) -> str:
    return hashlib.sha256(certificate_id.encode()).hexdigest()[:12]


def _shortened(certificate_id: str, version: int = 1) -> str:
    """What a shortened name keeps of an id: what an adversary would copy into a readable id."""
    keep = 64 - len("certpush-") - len(f"-v{version}") - 13
    return re.sub(r"[^A-Za-z0-9_.-]", "-", certificate_id)[:keep]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # an id from before the id rule, and the clean id that spells its old shortened name
        ("a/b", f"a-b-{_digest('a/b')}"),
        ("a b", "a-b"),
        # a long id, and a readable id made of its kept prefix and its digest
        ("x" * 60, f"{_shortened('x' * 60)}-{_digest('x' * 60)}"),
        ("x" * 128, f"{_shortened('x' * 128)}-{_digest('x' * 128)}"),
        # an id whose readable name is exactly 64 characters, and the same prefix shortened
        ("y" * 52, "y" * 53),
    ],
)
def test_adversarial_pairs_of_ids_get_different_names(first: str, second: str):
    assert _name(first) != _name(second)


@pytest.mark.parametrize(("first", "second"), [(("a-v1", 2), ("a", 12)), (("a-v1", 2), ("a-v1-v2", 1))])
def test_an_id_that_looks_like_a_version_never_takes_another_versions_name(first, second):
    assert _name(*first) != _name(*second)
