"""Importing is idempotent on content: the same certificate, key and chain as the latest version
store nothing; anything else is the next version."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certpush.models.domain import CertificateStatus
from certpush.providers.registry import REGISTRY
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import SampleCertificate, other_private_key
from tests.fakes import FixedClock, InMemoryCertificateStore
from tests.unit.conftest import CERTIFICATE_ID, material_of

pytestmark = pytest.mark.unit


def _import(store: InMemoryCertificateStore, clock: FixedClock, material, force: bool = False):
    return import_certificate(store, clock, material, certificate_id=CERTIFICATE_ID, force=force, catalog=REGISTRY)


def test_the_same_material_again_stores_nothing_and_names_the_version(store, clock, sample: SampleCertificate):
    first = _import(store, clock, material_of(sample))

    again = _import(store, clock, material_of(sample))

    assert first.created is True and first.version.version == 1
    assert again.created is False
    assert again.version == first.version
    assert [v.version for v in store.list_versions(CERTIFICATE_ID)] == [1]


def test_a_renewed_certificate_is_the_next_version(store, clock, sample, renewed):
    _import(store, clock, material_of(sample))

    result = _import(store, clock, material_of(renewed))

    assert result.created is True and result.version.version == 2
    assert result.version.fingerprint_sha256 != store.get_version(CERTIFICATE_ID, 1).fingerprint_sha256


def test_the_same_key_in_another_pem_encoding_and_chain_with_other_line_endings_is_the_same_material(
    store, clock, sample
):
    _import(store, clock, material_of(sample))
    key = serialization.load_pem_private_key(sample.private_key_pem.encode(), password=None)
    traditional = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    assert traditional != sample.private_key_pem

    again = _import(
        store, clock, material_of(sample, private_key_pem=traditional, chain_pem=sample.chain_pem.replace("\n", "\r\n"))
    )

    assert again.created is False


@pytest.mark.parametrize("change", ["chain", "key"])
def test_a_changed_chain_or_key_is_the_next_version(store, clock, sample, change):
    _import(store, clock, material_of(sample))
    changed = (
        material_of(sample, chain_pem=sample.chain_pem + sample.root_pem)
        if change == "chain"
        else material_of(sample, private_key_pem=other_private_key())
    )

    result = _import(store, clock, changed, force=True)

    assert result.created is True and result.version.version == 2


def test_only_the_latest_version_counts(store, clock, sample, renewed):
    _import(store, clock, material_of(sample))
    _import(store, clock, material_of(renewed))

    back = _import(store, clock, material_of(sample))

    assert back.created is True and back.version.version == 3


def test_a_revoked_latest_version_is_not_brought_back_by_importing_it_again(store, clock, sample):
    first = _import(store, clock, material_of(sample))
    store.set_status(CERTIFICATE_ID, first.version.version, CertificateStatus.REVOKED)

    again = _import(store, clock, material_of(sample))

    assert again.created is False
    assert again.version.status is CertificateStatus.REVOKED
    assert len(store.list_versions(CERTIFICATE_ID)) == 1


def test_a_version_stored_without_digests_is_never_taken_for_the_same_material(store, clock, sample):
    first = _import(store, clock, material_of(sample))
    key = (CERTIFICATE_ID, 1)
    store.versions[key] = first.version.model_copy(
        update={"key_fingerprint_sha256": None, "chain_fingerprint_sha256": None}
    )

    again = _import(store, clock, material_of(sample))

    assert again.created is True and again.version.version == 2


def test_an_unreadable_key_forced_in_never_matches(store, clock, sample):
    junk = "-----BEGIN " + "PRIVATE KEY-----\nnope\n"
    _import(store, clock, material_of(sample, private_key_pem=junk), force=True)

    again = _import(store, clock, material_of(sample, private_key_pem=junk), force=True)

    assert again.created is True and again.version.version == 2


def test_metadata_holds_only_public_digests(store, clock, sample):
    stored = _import(store, clock, material_of(sample)).version
    certificate = x509.load_pem_x509_certificate(sample.certificate_pem.encode())
    public = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_der = serialization.load_pem_private_key(sample.private_key_pem.encode(), password=None).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    assert stored.key_fingerprint_sha256 == hashlib.sha256(public).hexdigest()
    dumped = stored.model_dump_json()
    assert "PRIVATE" not in dumped
    assert hashlib.sha256(key_der).hexdigest() not in dumped
