"""The certificate store (port ``CertificateStore``): metadata in the inventory table, material in
Secrets Manager. The push policies share the table (``policy_store.py``).

Inventory table items of certificates:
- ``CERT#{id}`` / ``META``: version counter (allocates version numbers atomically) and the latest
  version's material digest (``latest_digest``: the same material is never stored twice in a row);
- ``CERT#{id}`` / ``V#{version:06}``: metadata of one version (no key material).

Each version's certificate, chain and private key live in one secret, ``{prefix}/{id}/v{version}``,
encrypted with the stack's KMS key. Reads go through Powertools' SecretsProvider, which caches them
per container for ``max_age`` seconds.

A version set REVOKED or DELETED is never pushed again: its secret is scheduled for deletion after
``RETIRED_MATERIAL_RECOVERY_DAYS`` (Secrets Manager's recovery window), and setting the version
HOSTED within that window restores it. After it, the key is gone for good."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError

from certpush.adapters.aws_clients import aws_client, aws_resource
from certpush.adapters.aws_errors import aws_errors, dependency_error, is_transient
from certpush.adapters.dynamodb_batch import batch_get
from certpush.errors import AlreadyImportedError, CertificateNotFoundError, ConcurrentImportError
from certpush.models.domain import CertificateMaterial, CertificateStatus, CertificateVersion
from certpush.models.items import parse_timestamp, timestamp
from certpush.models.material_secret import decode_material, encode_material

_DATES = ("not_before", "not_after", "imported_at")
_VERSION_ATTEMPTS = 5
# Secrets Manager's longest recovery window (DeleteSecret, RecoveryWindowInDays 7 to 30): time to undo
RETIRED_MATERIAL_RECOVERY_DAYS = 30
_RETIRED = (CertificateStatus.REVOKED, CertificateStatus.DELETED)


# -- the inventory table's keys: built here only (the policies share the table under PK "POLICY") ------
VERSION_PREFIX = "V#"
META_SK = "META"


def certificate_pk(certificate_id: str) -> str:
    return f"CERT#{certificate_id}"


def version_sk(version: int) -> str:
    return f"{VERSION_PREFIX}{version:06d}"


def _version_item(metadata: CertificateVersion) -> dict[str, Any]:
    data = metadata.model_dump(mode="json")
    for field in _DATES:
        data[field] = timestamp(getattr(metadata, field))
    key = {"PK": certificate_pk(metadata.certificate_id), "SK": version_sk(metadata.version)}
    return {**key, "type": "VERSION", **data}


def _version_from_item(item: dict[str, Any]) -> CertificateVersion:
    data = {k: v for k, v in item.items() if k in CertificateVersion.model_fields}
    for field in _DATES:
        data[field] = parse_timestamp(str(item[field]))
    data["version"] = int(item["version"])
    return CertificateVersion.model_validate(data)


class DynamoDBCertificateStore:
    def __init__(
        self,
        table_name: str,
        secrets_prefix: str,
        kms_key_id: str | None = None,
        material_max_age: int = 300,
        resource: Any | None = None,
        secrets_client: Any | None = None,
    ) -> None:
        self._table = (resource or aws_resource("dynamodb")).Table(table_name)
        self._secrets = secrets_client or aws_client("secretsmanager")
        self._provider = SecretsProvider(boto3_client=self._secrets)
        self._prefix = secrets_prefix.rstrip("/")
        self._kms_key_id = kms_key_id
        self._max_age = material_max_age

    @aws_errors("inventory: get_version")
    def get_version(self, certificate_id: str, version: int | None = None) -> CertificateVersion:
        pk = certificate_pk(certificate_id)
        if version is not None:
            item = self._table.get_item(Key={"PK": pk, "SK": version_sk(version)}).get("Item")
        else:
            items = self._table.query(
                KeyConditionExpression=Key("PK").eq(pk) & Key("SK").begins_with(VERSION_PREFIX),
                ScanIndexForward=False,
                Limit=1,
            ).get("Items", [])
            item = items[0] if items else None
        if not item:
            raise CertificateNotFoundError(certificate_id, version)
        return _version_from_item(item)

    @aws_errors("inventory: get_versions")
    def get_versions(self, wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], CertificateVersion]:
        keys = [(certificate_pk(certificate_id), version_sk(version)) for certificate_id, version in wanted]
        versions = [_version_from_item(item) for item in batch_get(self._table.meta.client, self._table.name, keys)]
        return {(v.certificate_id, v.version): v for v in versions}

    @aws_errors("inventory: list_versions")
    def list_versions(self, certificate_id: str) -> list[CertificateVersion]:
        items = self._table.query(
            KeyConditionExpression=Key("PK").eq(certificate_pk(certificate_id)) & Key("SK").begins_with(VERSION_PREFIX)
        ).get("Items", [])
        return [_version_from_item(item) for item in items]

    @aws_errors("inventory: list_certificates")
    def list_certificates(self) -> list[CertificateVersion]:
        latest: dict[str, CertificateVersion] = {}
        kwargs: dict[str, Any] = {}
        while True:
            response = self._table.scan(**kwargs)
            for item in response.get("Items", []):
                if item.get("type") == "VERSION":
                    version = _version_from_item(item)
                    known = latest.get(version.certificate_id)
                    if known is None or known.version < version.version:
                        latest[version.certificate_id] = version
            if "LastEvaluatedKey" not in response:
                return sorted(latest.values(), key=lambda v: v.certificate_id)
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get_material(self, certificate: CertificateVersion) -> CertificateMaterial:
        try:
            data = self._provider.get(certificate.secret_id, max_age=self._max_age, transform="json")
        except Exception as exc:
            # Powertools wraps every provider error in GetParameterError, raised while handling the
            # SDK's: a throttle or an outage is worth a retry, a missing or unreadable secret is not
            cause = exc.__cause__ or exc.__context__
            if cause is not None and is_transient(cause):
                raise dependency_error(cause, f"Secrets Manager: {certificate.secret_id}") from exc
            raise CertificateNotFoundError(certificate.certificate_id, certificate.version) from exc
        assert isinstance(data, dict)
        return decode_material(data)

    @aws_errors("inventory: put_version")
    def put_version(self, metadata: CertificateVersion, material: CertificateMaterial) -> CertificateVersion:
        """Stores the material as the next version, all or nothing, once per material.

        The version counter item (``META``) carries the latest version's ``material_digest``. The
        secret is written first, under the number after the counter's; then one transaction moves the
        counter to that number (condition: no other import took it meanwhile, and the latest digest is
        not this one) and writes the version item. A refused or failed secret write leaves no counter
        step and no version; a lost race deletes its secret, then either finds its own material was
        the winner's (AlreadyImportedError: two identical imports at once make one version) or tries
        the next number."""
        digest = metadata.material_digest
        for _ in range(_VERSION_ATTEMPTS):
            latest, latest_digest = self._latest_version(metadata.certificate_id)
            if digest is not None and latest_digest == digest:
                raise AlreadyImportedError(latest)
            version = latest + 1
            secret_id = self._create_secret(metadata.certificate_id, version, material)
            stored = metadata.model_copy(update={"version": version, "secret_id": secret_id})
            try:
                self._commit_version(stored, latest, digest)
            except ClientError as exc:
                self._delete_secret(secret_id)
                if exc.response["Error"]["Code"] == "TransactionCanceledException":
                    continue  # another import of this id took the number: look again
                raise
            except BaseException:
                self._delete_secret(secret_id)
                raise
            return stored
        raise ConcurrentImportError(metadata.certificate_id)

    def _latest_version(self, certificate_id: str) -> tuple[int, str | None]:
        """(latest version number, its material digest) from the counter item."""
        key = {"PK": certificate_pk(certificate_id), "SK": META_SK}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if not item:
            return 0, None
        return int(item.get("latest_version", 0)), str(item["latest_digest"]) if item.get("latest_digest") else None

    def _create_secret(self, certificate_id: str, version: int, material: CertificateMaterial) -> str:
        secret = encode_material(material)
        name = f"{self._prefix}/{certificate_id}/v{version}"
        # a secret of this name may be left by an import that failed after writing it: never reuse it
        for secret_id in (name, f"{name}-{uuid.uuid4().hex[:8]}"):
            create: dict[str, Any] = {
                "Name": secret_id,
                "SecretString": secret,
                "Description": f"certpush certificate {certificate_id} version {version}",
                "Tags": [
                    {"Key": "certpush:certificate-id", "Value": certificate_id},
                    {"Key": "certpush:version", "Value": str(version)},
                ],
            }
            if self._kms_key_id:
                create["KmsKeyId"] = self._kms_key_id
            try:
                self._secrets.create_secret(**create)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceExistsException" and secret_id == name:
                    continue
                raise
            return secret_id
        raise AssertionError("unreachable: the second name is unique")

    def _commit_version(self, stored: CertificateVersion, latest: int, digest: str | None) -> None:
        table = self._table.name
        counter: dict[str, Any] = {
            "TableName": table,
            "Key": {"PK": certificate_pk(stored.certificate_id), "SK": META_SK},
            "UpdateExpression": "SET latest_version = :version, #t = :t REMOVE latest_digest",
            "ConditionExpression": "(attribute_not_exists(latest_version) OR latest_version = :latest)",
            "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": {":version": stored.version, ":latest": latest, ":t": META_SK},
        }
        if digest is not None:  # a new version never has the latest one's material
            counter["UpdateExpression"] = "SET latest_version = :version, #t = :t, latest_digest = :digest"
            counter["ConditionExpression"] += " AND (attribute_not_exists(latest_digest) OR latest_digest <> :digest)"
            counter["ExpressionAttributeValues"][":digest"] = digest
        self._table.meta.client.transact_write_items(
            TransactItems=[
                {"Update": counter},
                {
                    "Put": {
                        "TableName": table,
                        "Item": _version_item(stored),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )

    def _delete_secret(self, secret_id: str) -> None:
        """Best effort: a secret no version refers to is never read (a later import does not reuse it)."""
        with contextlib.suppress(ClientError, BotoCoreError):
            self._secrets.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)

    @aws_errors("inventory: set_status")
    def set_status(self, certificate_id: str, version: int, status: CertificateStatus) -> None:
        try:
            self._table.update_item(
                Key={"PK": certificate_pk(certificate_id), "SK": version_sk(version)},
                UpdateExpression="SET #s = :s",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": status.value},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CertificateNotFoundError(certificate_id, version) from exc
            raise
        secret_id = self.get_version(certificate_id, version).secret_id
        if status in _RETIRED:
            self._retire_secret(secret_id)
        else:
            self._restore_secret(secret_id)

    def _retire_secret(self, secret_id: str) -> None:
        try:
            self._secrets.delete_secret(SecretId=secret_id, RecoveryWindowInDays=RETIRED_MATERIAL_RECOVERY_DAYS)
        except ClientError as exc:
            # already scheduled (InvalidRequestException), or gone: nothing left to retire
            if exc.response["Error"]["Code"] not in ("InvalidRequestException", "ResourceNotFoundException"):
                raise

    def _restore_secret(self, secret_id: str) -> None:
        """Cancels a scheduled deletion; a secret that is not scheduled is left as it is."""
        try:
            if "DeletedDate" in self._secrets.describe_secret(SecretId=secret_id):
                self._secrets.restore_secret(SecretId=secret_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
