"""The one layout of a version's secret (certpush.models.material_secret): what both hosts store and
what the import measures against Secrets Manager's limit."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from certpush.models.domain import CertificateMaterial
from certpush.models.material_secret import decode_material, encode_material
from certpush_cli.logic.material_files import secret_size

pytestmark = pytest.mark.unit

MATERIAL = CertificateMaterial(
    certificate_pem="-----CERT-----\n", chain_pem="-----CHAIN-----\n", private_key_pem=SecretStr("-----KEY-----\n")
)


def test_the_secret_is_one_json_object_and_reads_back_whole() -> None:
    text = encode_material(MATERIAL)

    assert json.loads(text) == {"certificate": "-----CERT-----\n", "chain": "-----CHAIN-----\n",
                                "private_key": "-----KEY-----\n"}  # fmt: skip
    for stored in (text, text.encode(), json.loads(text)):
        read = decode_material(stored)
        assert read == MATERIAL and read.private_key_pem.get_secret_value() == "-----KEY-----\n"


def test_a_secret_without_a_chain_reads_as_no_chain() -> None:
    read = decode_material({"certificate": "c", "private_key": "k"})
    assert read.chain_pem == ""


def test_the_import_measures_the_secret_it_will_store() -> None:
    assert secret_size(MATERIAL) == len(encode_material(MATERIAL).encode())
