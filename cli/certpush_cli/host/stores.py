"""The inventory on the host (ports ``CertificateStore`` and ``PolicyStore``), and the encrypted
credentials the host's targets use. Metadata is a row per version; the material (certificate, chain,
private key) is sealed with AES-GCM (``cipher.py``) in its own row, whose id the version names as
its ``secret_id``, as a version names its Secrets Manager secret on AWS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from certpush.errors import AlreadyImportedError, CertificateNotFoundError
from certpush.models.domain import CertificateMaterial, CertificateStatus, CertificateVersion, PushPolicy
from certpush.models.material_secret import decode_material, encode_material
from certpush_cli.host.cipher import SealedBox
from certpush_cli.host.database import Database


def _version(row: Any) -> CertificateVersion:
    return CertificateVersion.model_validate_json(row["metadata"]).model_copy(
        update={"status": CertificateStatus(row["status"])}
    )


class SqliteCertificateStore:
    def __init__(self, database: Database, box: SealedBox) -> None:
        self._db = database
        self._box = box

    def get_version(self, certificate_id: str, version: int | None = None) -> CertificateVersion:
        connection = self._db.connection()
        if version is None:
            row = connection.execute(
                "SELECT * FROM certificate_versions WHERE certificate_id = ? ORDER BY version DESC LIMIT 1",
                (certificate_id,),
            ).fetchone()
        else:
            row = connection.execute(
                "SELECT * FROM certificate_versions WHERE certificate_id = ? AND version = ?", (certificate_id, version)
            ).fetchone()
        if row is None:
            raise CertificateNotFoundError(certificate_id, version)
        return _version(row)

    def get_versions(self, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], CertificateVersion]:
        found: dict[tuple[str, int], CertificateVersion] = {}
        with self._db.read() as connection:
            for certificate_id, version in dict.fromkeys(wanted):
                row = connection.execute(
                    "SELECT * FROM certificate_versions WHERE certificate_id = ? AND version = ?",
                    (certificate_id, version),
                ).fetchone()
                if row is not None:
                    found[(certificate_id, version)] = _version(row)
        return found

    def get_material(self, certificate: CertificateVersion) -> CertificateMaterial:
        row = (
            self._db.connection()
            .execute("SELECT nonce, ciphertext FROM material WHERE material_id = ?", (certificate.secret_id,))
            .fetchone()
        )
        if row is None:
            raise CertificateNotFoundError(certificate.certificate_id, certificate.version)
        return decode_material(self._box.open(certificate.secret_id, row["nonce"], row["ciphertext"]))

    def put_version(self, metadata: CertificateVersion, material: CertificateMaterial) -> CertificateVersion:
        """The next version and its sealed material in one transaction: all or nothing. When the latest
        version holds the same material (an identical import committed first), nothing is stored and
        AlreadyImportedError names it."""
        with self._db.transaction() as connection:
            row = connection.execute(
                "SELECT * FROM certificate_versions WHERE certificate_id = ? ORDER BY version DESC LIMIT 1",
                (metadata.certificate_id,),
            ).fetchone()
            latest = _version(row) if row else None
            digest = metadata.material_digest
            if latest is not None and digest is not None and latest.material_digest == digest:
                raise AlreadyImportedError(latest.version)
            version = (latest.version if latest else 0) + 1
            material_id = f"material/{metadata.certificate_id}/v{version}"
            stored = metadata.model_copy(update={"version": version, "secret_id": material_id})
            plaintext = encode_material(material).encode()
            nonce, ciphertext = self._box.seal(material_id, plaintext)
            connection.execute(
                "INSERT OR REPLACE INTO material (material_id, nonce, ciphertext) VALUES (?, ?, ?)",
                (material_id, nonce, ciphertext),
            )
            connection.execute(
                "INSERT INTO certificate_versions (certificate_id, version, status, metadata) VALUES (?, ?, ?, ?)",
                (stored.certificate_id, version, stored.status.value, stored.model_dump_json()),
            )
        return stored

    def list_versions(self, certificate_id: str) -> list[CertificateVersion]:
        rows = (
            self._db.connection()
            .execute("SELECT * FROM certificate_versions WHERE certificate_id = ? ORDER BY version", (certificate_id,))
            .fetchall()
        )
        return [_version(row) for row in rows]

    def list_certificates(self) -> list[CertificateVersion]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT v.* FROM certificate_versions v JOIN (SELECT certificate_id, MAX(version) AS latest "
                "FROM certificate_versions GROUP BY certificate_id) l "
                "ON v.certificate_id = l.certificate_id AND v.version = l.latest ORDER BY v.certificate_id"
            )
            .fetchall()
        )
        return [_version(row) for row in rows]

    def set_status(self, certificate_id: str, version: int, status: CertificateStatus) -> None:
        with self._db.transaction() as connection:
            changed = connection.execute(
                "UPDATE certificate_versions SET status = ? WHERE certificate_id = ? AND version = ?",
                (status.value, certificate_id, version),
            ).rowcount
        if not changed:
            raise CertificateNotFoundError(certificate_id, version)


class SqlitePolicyStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def list_policies(self) -> list[PushPolicy]:
        rows = self._db.connection().execute("SELECT policy FROM policies ORDER BY name").fetchall()
        return [PushPolicy.model_validate_json(row["policy"]) for row in rows]

    def put_policy(self, policy: PushPolicy) -> None:
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO policies (name, policy) VALUES (?, ?)", (policy.name, policy.model_dump_json())
            )

    def delete_policy(self, name: str) -> bool:
        with self._db.transaction() as connection:
            return connection.execute("DELETE FROM policies WHERE name = ?", (name,)).rowcount > 0


class SqliteCredentialStore:
    """Named JSON secrets (e.g. ``huaweicloud``: the AK/SK), sealed like the material."""

    def __init__(self, database: Database, box: SealedBox) -> None:
        self._db = database
        self._box = box

    @staticmethod
    def _associated(name: str) -> str:
        return f"credentials/{name}"

    def put(self, name: str, value: dict[str, str]) -> None:
        nonce, ciphertext = self._box.seal(self._associated(name), json.dumps(value).encode())
        with self._db.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO credentials (name, nonce, ciphertext, updated_at) VALUES (?, ?, ?, ?)",
                (name, nonce, ciphertext, datetime.now(UTC).isoformat()),
            )

    def get(self, name: str) -> dict[str, str] | None:
        row = (
            self._db.connection()
            .execute("SELECT nonce, ciphertext FROM credentials WHERE name = ?", (name,))
            .fetchone()
        )
        if row is None:
            return None
        value: dict[str, str] = json.loads(self._box.open(self._associated(name), row["nonce"], row["ciphertext"]))
        return value

    def delete(self, name: str) -> bool:
        with self._db.transaction() as connection:
            return connection.execute("DELETE FROM credentials WHERE name = ?", (name,)).rowcount > 0
