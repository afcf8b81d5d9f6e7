"""Certificate inventory on the inventory table of template.yaml, material in Secrets Manager under
the stack's KMS key; push policies in the same table. The behaviour every store shares runs against
the in-memory fake and the one-machine host's SQLite stores (material sealed with AES-GCM) as well."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import SecretStr

from certpush.adapters.certificate_store import DynamoDBCertificateStore
from certpush.adapters.policy_store import DynamoDBPolicyStore
from certpush.errors import AlreadyImportedError, CertificateNotFoundError
from certpush.models.domain import (
    CertificateMaterial,
    CertificateStatus,
    CertificateVersion,
    PushPolicy,
    TargetSpec,
)
from certpush.ports import CertificateStore, PolicyStore
from certpush.providers.registry import REGISTRY
from certpush_cli.host.stores import SqliteCertificateStore, SqlitePolicyStore
from certpush_cli.logic.certificate_import import ImportResult, import_certificate
from certpush_cli.sample_certificates import make_certificate
from certpush_dev.local.provision import ProvisionedStack
from tests.fakes import FixedClock, InMemoryCertificateStore, InMemoryPolicyStore

pytestmark = pytest.mark.integration


def _material(domain: str = "shop.example.com") -> CertificateMaterial:
    sample = make_certificate(domain, sans=[domain, f"www.{domain}"])
    return CertificateMaterial(
        certificate_pem=sample.certificate_pem,
        chain_pem=sample.chain_pem,
        private_key_pem=SecretStr(sample.private_key_pem),
    )


@pytest.fixture
def dynamodb_store(clean_stack: ProvisionedStack, dynamodb: Any, secretsmanager: Any) -> DynamoDBCertificateStore:
    return DynamoDBCertificateStore(
        clean_stack.outputs["InventoryTableName"],
        secrets_prefix=clean_stack.outputs["SecretsPrefix"],
        kms_key_id=clean_stack.outputs["CertificateKeyId"],
        resource=dynamodb,
        secrets_client=secretsmanager,
    )


@pytest.fixture(params=["in-memory", "dynamodb", "sqlite"])
def store(request: pytest.FixtureRequest) -> CertificateStore:
    if request.param == "in-memory":
        return InMemoryCertificateStore()
    if request.param == "sqlite":
        return SqliteCertificateStore(request.getfixturevalue("host_database"), request.getfixturevalue("sealed_box"))
    return request.getfixturevalue("dynamodb_store")


@pytest.fixture(params=["in-memory", "dynamodb", "sqlite"])
def policies(request: pytest.FixtureRequest) -> PolicyStore:
    if request.param == "in-memory":
        return InMemoryPolicyStore()
    if request.param == "sqlite":
        return SqlitePolicyStore(request.getfixturevalue("host_database"))
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    return DynamoDBPolicyStore(stack.outputs["InventoryTableName"], resource=request.getfixturevalue("dynamodb"))


def _put(
    store: CertificateStore, certificate_id: str, material: CertificateMaterial | None = None
) -> CertificateVersion:
    return import_certificate(
        store, FixedClock(), material or _material(), certificate_id=certificate_id, catalog=REGISTRY
    ).version


# -- shared by the fake and DynamoDB -----------------------------------------------------------------
def test_versions_are_allocated_per_certificate(store: CertificateStore):
    versions = [_put(store, "shop").version for _ in range(3)]
    other = _put(store, "blog", _material("blog.example.com"))

    assert versions == [1, 2, 3]
    assert other.version == 1
    assert [v.version for v in store.list_versions("shop")] == [1, 2, 3]


def test_get_version_reads_one_version_or_the_latest(store: CertificateStore):
    first = _put(store, "shop")
    second = _put(store, "shop")

    assert store.get_version("shop", 1) == first
    assert store.get_version("shop") == second
    with pytest.raises(CertificateNotFoundError):
        store.get_version("shop", 3)
    with pytest.raises(CertificateNotFoundError):
        store.get_version("nothing")
    assert store.list_versions("nothing") == []


def test_material_round_trip(store: CertificateStore):
    material = _material()
    stored = _put(store, "shop", material)

    read = store.get_material(stored)

    assert read.certificate_pem == material.certificate_pem
    assert read.chain_pem == material.chain_pem
    assert read.private_key_pem.get_secret_value() == material.private_key_pem.get_secret_value()


def test_set_status(store: CertificateStore):
    _put(store, "shop")
    _put(store, "shop")

    store.set_status("shop", 1, CertificateStatus.REVOKED)

    assert store.get_version("shop", 1).status is CertificateStatus.REVOKED
    assert store.get_version("shop", 2).status is CertificateStatus.HOSTED
    with pytest.raises(CertificateNotFoundError):
        store.set_status("shop", 7, CertificateStatus.REVOKED)


def test_a_retired_version_s_secret_is_scheduled_for_deletion_and_hosting_it_again_restores_it(
    dynamodb_store: DynamoDBCertificateStore, secretsmanager: Any
):
    """Issue 18: a REVOKED or DELETED version's key does not stay in Secrets Manager for ever."""
    from certpush.adapters.certificate_store import RETIRED_MATERIAL_RECOVERY_DAYS

    first, second = _put(dynamodb_store, "shop"), _put(dynamodb_store, "shop", _material("other.example.com"))

    for status in (CertificateStatus.REVOKED, CertificateStatus.DELETED):
        dynamodb_store.set_status("shop", 1, status)  # twice: the second finds it scheduled already
        described = secretsmanager.describe_secret(SecretId=first.secret_id)
        window = described["DeletedDate"] - described.get("LastChangedDate", described["DeletedDate"])
        assert "DeletedDate" in described
        assert window.days <= RETIRED_MATERIAL_RECOVERY_DAYS
    assert "DeletedDate" not in secretsmanager.describe_secret(SecretId=second.secret_id)

    dynamodb_store.set_status("shop", 1, CertificateStatus.HOSTED)

    assert "DeletedDate" not in secretsmanager.describe_secret(SecretId=first.secret_id)
    assert dynamodb_store.get_material(dynamodb_store.get_version("shop", 1)).certificate_pem


def test_list_certificates_gives_the_latest_version_of_each(store: CertificateStore):
    _put(store, "shop")
    latest_shop = _put(store, "shop")
    blog = _put(store, "blog", _material("blog.example.com"))

    assert store.list_certificates() == [blog, latest_shop]


def test_policies_crud(policies: PolicyStore):
    aws = TargetSpec(provider="aws", service="elb", regions=["us-east-1", "eu-west-1"])
    waf = TargetSpec(provider="huaweicloud", service="waf", regions=["cn-north-4"])
    shop = PushPolicy(name="shop", pattern="*.shop.example.com", targets=[aws])
    blog = PushPolicy(name="blog", pattern="blog.example.com", targets=[waf], enabled=False)

    assert policies.list_policies() == []
    policies.put_policy(shop)
    policies.put_policy(blog)
    assert sorted(policies.list_policies(), key=lambda p: p.name) == [blog, shop]

    changed = shop.model_copy(update={"targets": [aws, waf]})
    policies.put_policy(changed)
    assert sorted(policies.list_policies(), key=lambda p: p.name) == [blog, changed]

    assert policies.delete_policy("blog") is True
    assert policies.delete_policy("blog") is False
    assert policies.list_policies() == [changed]


# -- DynamoDB and Secrets Manager --------------------------------------------------------------------
def test_private_key_is_only_in_secrets_manager(
    dynamodb_store: DynamoDBCertificateStore, clean_stack: ProvisionedStack, dynamodb: Any, secretsmanager: Any
):
    material = _material()
    stored = _put(dynamodb_store, "shop", material)
    _put(dynamodb_store, "shop")

    items = dynamodb.Table(clean_stack.outputs["InventoryTableName"]).scan()["Items"]
    assert {item["SK"] for item in items} == {"META", "V#000001", "V#000002"}
    dumped = json.dumps(items, default=str)
    assert "-----BEGIN" not in dumped
    assert "PRIVATE KEY" not in dumped

    assert stored.secret_id == f"{clean_stack.outputs['SecretsPrefix']}/shop/v1"
    secret = json.loads(secretsmanager.get_secret_value(SecretId=stored.secret_id)["SecretString"])
    assert secret["private_key"] == material.private_key_pem.get_secret_value()
    assert secret["certificate"] == material.certificate_pem


def test_secrets_are_encrypted_with_the_stack_key(
    dynamodb_store: DynamoDBCertificateStore, clean_stack: ProvisionedStack, secretsmanager: Any
):
    stored = _put(dynamodb_store, "shop")

    described = secretsmanager.describe_secret(SecretId=stored.secret_id)

    assert described["KmsKeyId"] == clean_stack.outputs["CertificateKeyId"]
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == {
        "certpush:certificate-id": "shop",
        "certpush:version": "1",
    }


def test_version_metadata_describes_the_certificate(dynamodb_store: DynamoDBCertificateStore):
    stored = _put(dynamodb_store, "shop")

    read = dynamodb_store.get_version("shop", 1)

    assert read == stored
    assert (read.common_name, read.sans) == ("shop.example.com", ["shop.example.com", "www.shop.example.com"])
    assert read.status is CertificateStatus.HOSTED
    assert read.not_before < read.not_after


def test_list_certificates_skips_policies_and_counters(
    dynamodb_store: DynamoDBCertificateStore, clean_stack: ProvisionedStack, dynamodb: Any
):
    DynamoDBPolicyStore(clean_stack.outputs["InventoryTableName"], resource=dynamodb).put_policy(
        PushPolicy(name="all", pattern="*", targets=[TargetSpec(provider="aws", service="elb", regions=["us-east-1"])])
    )
    shop = _put(dynamodb_store, "shop")

    assert dynamodb_store.list_certificates() == [shop]


# -- an import is all or nothing -------------------------------------------------------------------
class _RefusingSecrets:
    """Secrets Manager that refuses every new secret (as it refuses one over 64 KB)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def create_secret(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "InvalidParameterException", "Message": "too large"}}, "CreateSecret")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _items(dynamodb: Any, table: str, certificate_id: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    return dynamodb.Table(table).query(KeyConditionExpression=Key("PK").eq(f"CERT#{certificate_id}"))["Items"]


def test_a_refused_secret_leaves_no_version_and_no_counter_step(
    clean_stack: ProvisionedStack, dynamodb: Any, secretsmanager: Any, dynamodb_store: DynamoDBCertificateStore
):
    table = clean_stack.outputs["InventoryTableName"]
    refusing = DynamoDBCertificateStore(
        table, secrets_prefix=clean_stack.outputs["SecretsPrefix"], resource=dynamodb,
        secrets_client=_RefusingSecrets(secretsmanager),
    )  # fmt: skip

    with pytest.raises(Exception, match="too large"):
        _put(refusing, "shop")

    assert _items(dynamodb, table, "shop") == []
    assert _put(dynamodb_store, "shop").version == 1


def test_an_import_that_loses_its_version_number_deletes_its_secret_and_takes_the_next(
    clean_stack: ProvisionedStack, dynamodb: Any, secretsmanager: Any, dynamodb_store: DynamoDBCertificateStore
):
    first = _put(dynamodb_store, "shop")
    # another import committed version 2 between our read of the counter and our commit
    table = dynamodb.Table(clean_stack.outputs["InventoryTableName"])
    real_get_item = table.get_item
    raced = {"done": False}

    def stale_counter(**kwargs: Any) -> Any:
        answer = real_get_item(**kwargs)
        if not raced["done"]:
            raced["done"] = True
            table.update_item(
                Key={"PK": "CERT#shop", "SK": "META"}, UpdateExpression="SET latest_version = :v",
                ExpressionAttributeValues={":v": 2},
            )  # fmt: skip
        return answer

    dynamodb_store._table.get_item = stale_counter  # type: ignore[method-assign]

    stored = _put(dynamodb_store, "shop")

    assert first.version == 1 and stored.version == 3
    names = [s["Name"] for s in secretsmanager.list_secrets()["SecretList"]]
    assert f"{clean_stack.outputs['SecretsPrefix']}/shop/v2" not in names
    assert stored.secret_id in names


def test_a_secret_left_behind_by_a_failed_import_is_never_reused(
    clean_stack: ProvisionedStack, secretsmanager: Any, dynamodb_store: DynamoDBCertificateStore
):
    leftover = f"{clean_stack.outputs['SecretsPrefix']}/shop/v1"
    secretsmanager.create_secret(Name=leftover, SecretString="{}")

    stored = _put(dynamodb_store, "shop")

    assert stored.version == 1
    assert stored.secret_id != leftover
    assert dynamodb_store.get_material(stored).certificate_pem.startswith("-----BEGIN CERTIFICATE-----")


# -- one conditional step: identical material imported at once makes one version (issue 16) ------------
def test_material_equal_to_the_latest_version_is_never_stored_again(store: CertificateStore):
    """What a second import at the same instant meets: its own check ("same as the latest?") ran before
    the first import stored, so the store's condition is what refuses it."""
    material = _material()
    first = _put(store, "shop", material)

    with pytest.raises(AlreadyImportedError) as refused:
        store.put_version(first.model_copy(update={"version": 1, "secret_id": ""}), material)

    assert refused.value.version == 1
    assert [v.version for v in store.list_versions("shop")] == [1]
    assert _put(store, "shop").version == 2  # other material is a new version


def test_an_identical_import_that_loses_the_race_stores_nothing_and_names_the_winner(
    clean_stack: ProvisionedStack, dynamodb: Any, secretsmanager: Any, dynamodb_store: DynamoDBCertificateStore
):
    material = _material()
    other = DynamoDBCertificateStore(
        clean_stack.outputs["InventoryTableName"], secrets_prefix=clean_stack.outputs["SecretsPrefix"],
        resource=dynamodb, secrets_client=secretsmanager,
    )  # fmt: skip
    table = dynamodb_store._table
    real_get_item = table.get_item
    raced: list[ImportResult] = []

    def counter_read_then_the_other_import(**kwargs: Any) -> Any:
        answer = real_get_item(**kwargs)
        if kwargs["Key"]["SK"] == "META" and not raced:
            raced.append(import_certificate(other, FixedClock(), material, certificate_id="shop", catalog=REGISTRY))
        return answer

    table.get_item = counter_read_then_the_other_import  # type: ignore[method-assign]

    mine = import_certificate(dynamodb_store, FixedClock(), material, certificate_id="shop", catalog=REGISTRY)

    [winner] = raced
    assert (winner.created, winner.version.version) == (True, 1)
    assert (mine.created, mine.version) == (False, winner.version)
    assert [v.version for v in dynamodb_store.list_versions("shop")] == [1]
    names = [s["Name"] for s in secretsmanager.list_secrets()["SecretList"] if "/certificates/shop/" in s["Name"]]
    assert names == [winner.version.secret_id]  # the loser's secret was deleted


# -- the host's SQLite store -------------------------------------------------------------------------
def test_the_host_keeps_no_material_in_clear(host_database: Any, sealed_box: Any, tmp_path: Any):
    """The database file (and its WAL) holds the material only as AES-GCM ciphertext."""
    store = SqliteCertificateStore(host_database, sealed_box)
    material = _material()
    stored = _put(store, "shop", material)

    assert store.get_material(stored).private_key_pem == material.private_key_pem
    on_disk = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("certpush.db"))
    key_body = "".join(material.private_key_pem.get_secret_value().splitlines()[1:-1]).encode()
    assert b"PRIVATE KEY" not in on_disk and key_body[:64] not in on_disk
    assert material.certificate_pem.splitlines()[1].encode() not in on_disk


def test_sealed_material_opens_only_under_its_own_id(host_database: Any, sealed_box: Any):
    """Ciphertext moved onto another version's row does not open (its id is the associated data)."""
    from certpush.errors import ConfigurationError

    store = SqliteCertificateStore(host_database, sealed_box)
    first, second = _put(store, "shop"), _put(store, "shop")
    with host_database.transaction() as connection:
        row = connection.execute(
            "SELECT nonce, ciphertext FROM material WHERE material_id = ?", (first.secret_id,)
        ).fetchone()
        connection.execute(
            "UPDATE material SET nonce = ?, ciphertext = ? WHERE material_id = ?",
            (row["nonce"], row["ciphertext"], second.secret_id),
        )

    with pytest.raises(ConfigurationError, match="cannot decrypt"):
        store.get_material(second)
