"""The one layout of a certificate version's secret: certificate, chain and private key as one JSON
object (``{"certificate": PEM, "chain": PEM, "private_key": PEM}``). Secrets Manager holds it on AWS
(``adapters/certificate_store.py``), the home's sealed ``material`` table on one machine
(``certpush_cli/host/stores.py``), and the import measures it against Secrets Manager's size limit
(``certpush_cli/logic/material_files.py``): all through these two functions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from certpush.models.domain import CertificateMaterial


def encode_material(material: CertificateMaterial) -> str:
    return json.dumps(
        {
            "certificate": material.certificate_pem,
            "chain": material.chain_pem,
            "private_key": material.private_key_pem.get_secret_value(),
        }
    )


def decode_material(secret: str | bytes | Mapping[str, Any]) -> CertificateMaterial:
    """From the secret's text, or from the object a reader already parsed (Powertools' ``transform="json"``)."""
    data = secret if isinstance(secret, Mapping) else json.loads(secret)
    return CertificateMaterial(
        certificate_pem=data["certificate"],
        chain_pem=data.get("chain", ""),
        private_key_pem=SecretStr(data["private_key"]),
    )
