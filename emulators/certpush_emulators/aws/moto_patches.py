"""Where moto, run as a threaded server, is less safe or kinder than the service it stands for.

Each patch names the AWS behaviour it restores. The DynamoDB ones change no answer DynamoDB would
give; the ACM and CloudFront ones (at the end) refuse what ACM's ImportCertificate and CloudFront
refuse and moto accepts (an emulator is never kinder than the cloud).

DynamoDB serialises what it must itself; moto does not: a write from another request thread while
moto iterates a table fails with "dictionary changed size during iteration" (a 500 that DynamoDB
would never return). The push worker writes concurrently, so the embedded stack runs moto's
DynamoDB writes one at a time, and its reads (``READ_ONLY``) together but never beside a write: a
reader-writer lock, so that the records and progress reads of many pushes and of `push --wait` do
not queue behind each other (issue 22, item 4). It changes no answer, only the interleaving."""

from __future__ import annotations

import base64
import copy
import functools
import json
import threading
from typing import Any

# DynamoDB actions that change nothing (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/)
READ_ONLY = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables",
                       "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource"})  # fmt: skip


class ReadersWriterLock:
    """Many readers at once or one writer; a waiting writer goes before readers that come after it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._readers_waiting = 0

    def acquire_read(self) -> None:
        with self._condition:
            self._readers_waiting += 1
            while self._writing or self._writers_waiting:
                self._condition.wait()
            self._readers_waiting -= 1
            self._readers += 1

    def release_read(self) -> None:
        with self._condition:
            self._readers -= 1
            if not self._readers:
                self._condition.notify_all()

    def acquire_write(self) -> None:
        with self._condition:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writing = True

    def release_write(self) -> None:
        with self._condition:
            self._writing = False
            self._condition.notify_all()


_DYNAMODB = ReadersWriterLock()


def serialise_dynamodb_requests() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_certpush_serialised", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        if self._get_action() in READ_ONLY:
            _DYNAMODB.acquire_read()
            try:
                return original(self)
            finally:
                _DYNAMODB.release_read()
        _DYNAMODB.acquire_write()
        try:
            return original(self)
        finally:
            _DYNAMODB.release_write()

    call_action._certpush_serialised = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def transactions_without_table_copies() -> None:
    """TransactWriteItems checked first, then written: no copy of any table.

    moto 5 deep-copies every table a transaction names before it starts, to roll back by putting
    the copy in the table's place (``moto/dynamodb/models/__init__.py``). That costs time in
    proportion to the table (a quarter of the embedded stack's CPU in the fault suite), and the
    copy carries a copy of the stream: shard iterators already handed out keep reading the old
    shard, so after the first cancelled transaction the notifier's stream poller saw no change.

    DynamoDB itself evaluates every condition of a transaction before it writes anything, and a
    cancelled transaction writes nothing and adds no stream record (DynamoDB developer guide,
    "Amazon DynamoDB Transactions: How it works"; "Change data capture for DynamoDB Streams").
    So does this: pass one checks the request (at most 100 actions, one action per item, no item
    twice) and every condition against the current items, and collects the reasons as moto does;
    only when none failed does pass two write. A write refused in pass two (moto's own validation
    of an update expression) puts back the items already written from small copies of just those
    items, and drops the stream records they added, then cancels like moto. DynamoDB requests are
    serialised (above), so nothing else writes between the passes."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.transact_write_items, "_certpush_no_copies", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[Any, Any, Any]] = []
        writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            original_item = None
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                if op_type == "Put":
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                unique = (str(table_name), str(dict(sorted(key.items()))))
                if unique in seen:
                    raise MultipleTransactionsException()
                seen.add(unique)
                current = self.get_item(table_name, key)
                condition = op.get("ConditionExpression")
                if condition is not None:
                    check = get_filter_expression(
                        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                    )
                    if not check.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)
                if op_type != "ConditionCheck":
                    writes.append((op_type, op, key))
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as exc:
                errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
            except Exception as exc:  # moto reports any other failure as the item's reason
                errors.append((type(exc).__name__, str(exc), original_item))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        before: list[tuple[str, dict[str, Any], Any]] = []
        streams = {name: len(t.stream_shard.items) for name, t in self.tables.items() if t.stream_shard is not None}
        try:
            for op_type, op, key in writes:
                table_name = op["TableName"]
                current = self.get_item(table_name, key)
                before.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(table_name, op["Item"], expression_attribute_names=names,
                                  expression_attribute_values=values)  # fmt: skip
                elif op_type == "Delete":
                    self.delete_item(table_name, key, expression_attribute_names=names,
                                     expression_attribute_values=values)  # fmt: skip
                else:
                    self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                     expression_attribute_names=names, expression_attribute_values=values)  # fmt: skip
        except Exception as exc:
            for table_name, key, attributes in reversed(before):
                if attributes is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            for name, length in streams.items():
                shard = self.tables[name].stream_shard
                if shard is not None:
                    del shard.items[length:]
            if isinstance(exc, MockValidationException):
                raise
            raise TransactionCanceledException([(type(exc).__name__, str(exc), None)] * len(errors)) from exc

    transact_write_items._certpush_no_copies = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# -- ACM and CloudFront: what they refuse and moto accepts -------------------------------------------
# ACM User Guide, "Prerequisites for importing certificates"
# (https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html): RSA 1024,
# 2048, 3072, 4096 and ECDSA P-256, P-384, P-521 keys only; X.509 version 3 only; the private key no
# larger than 5 KB (5,120 bytes). ACM API Reference, ImportCertificate
# (https://docs.aws.amazon.com/acm/latest/APIReference/API_ImportCertificate.html): "You must enter the
# private key that matches the certificate"; "The cryptographic algorithm of an imported certificate
# must match the algorithm of the signing CA" (RSA or ECDSA, ACM's algorithms). botocore's ACM model
# lists ValidationException among ImportCertificate's errors: moto answers its own validation failures
# with it too.
ACM_KEY_ALGORITHMS = frozenset({"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
                                "EC_secp521r1"})  # fmt: skip
ACM_PRIVATE_KEY_MAX_BYTES = 5_120
ACM_CERTIFICATE_MAX_BYTES = 32_768  # ImportCertificate Certificate: 1 to 32,768 bytes (API reference, botocore model)
# CloudFront Developer Guide, "Requirements for using SSL/TLS certificates with CloudFront", and the ACM
# prerequisites page: "CloudFront only supports 1024-bit RSA, 2048-bit RSA, 3072-bit RSA, 4096-bit RSA,
# and Elliptic Prime Curve 256-bit keys". UpdateDistribution / CreateDistribution answer
# InvalidViewerCertificate (HTTP 400, botocore's CloudFront model) for a viewer certificate it cannot use.
CLOUDFRONT_KEY_ALGORITHMS = frozenset({"RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1"})
_ACM_CURVES = {"secp256r1": "prime256v1", "secp384r1": "secp384r1", "secp521r1": "secp521r1"}


def _dynamodb_wire(value: Any) -> Any:
    """A DynamoDB read's result (``dynamo_to_dict``'s: binary as bytes) as DynamoDB's JSON protocol
    carries it: bytes base64, no member that is None."""
    if isinstance(value, dict):
        return {k: _dynamodb_wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dynamodb_wire(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def dynamodb_reads_without_the_generic_serialiser() -> None:
    """moto 5.2's generic serialiser walks the operation's output shape for every attribute of every
    item: 5 of the 6.7 s of a Query of 500 records (profiled; issue 20's dashboard at 50 certificates
    waited on it). A Query, Scan, GetItem or BatchGetItem result is DynamoDB JSON already
    (``DynamoResult``); it is written as it is, as DynamoDB's JSON 1.0 protocol carries it. The same
    answer, byte for byte as boto3 reads it (tests/integration/test_moto_patches.py compares both paths
    on every attribute type); a result with a datetime (none of these operations has one) keeps the
    serialiser."""
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    if getattr(DynamoHandler.query, "_certpush_fast", False):
        return

    class _AsItIs(DynamoResult):
        def __init__(self, result: object) -> None:  # already transformed: no second dynamo_to_dict
            self._result = result

        def execute_result(self, context: Any) -> Any:
            try:
                body = json.dumps(_dynamodb_wire(self.result), separators=(",", ":"))
            except TypeError:  # something the JSON protocol writes otherwise (a timestamp): moto's way
                return super().execute_result(context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    def fast(original: Any) -> Any:
        @functools.wraps(original)
        def read(self: Any) -> Any:
            result = original(self)
            return _AsItIs(result.result) if type(result) is DynamoResult else result

        read._certpush_fast = True  # type: ignore[attr-defined]
        return read

    for name in ("query", "scan", "get_item", "batch_get_item"):
        setattr(DynamoHandler, name, fast(getattr(DynamoHandler, name)))


def dynamodb_projections_convert_only_what_they_project() -> None:
    """moto 5.2's ``Item.project`` converts the whole item to plain JSON once per projected path
    (``find_nested_key(expr, self.to_regular_json())``): a ProjectionExpression of 8 attributes over
    500 records converted every attribute of every item 8 times, three quarters of that Query's time
    (profiled; issue 20's dashboard reads the status index with the summary's 8 attributes). When every
    path is a top-level attribute name (no ``.`` member, no ``[n]`` element), the projection is those
    attributes, each converted once: what ``find_nested_key`` + ``merge_dicts`` make of such paths
    ({name: value} when the item has it, nothing otherwise). Any other path keeps moto's way. The same
    answer (tests/integration/test_moto_patches.py compares both on every attribute type)."""
    from moto.dynamodb.models.dynamo_type import Item, deserializer, serializer

    if getattr(Item.project, "_certpush_fast", False):
        return
    original = Item.project

    @functools.wraps(original)
    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        # moto's parser splits a path at "." into its parts; an element "[n]" stays in its part
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return original(self, projection_expressions)
        result = {
            name: deserializer.deserialize(self.attrs[name].to_regular_json())
            for name in dict.fromkeys(path[0] for path in projection_expressions)
            if name in self.attrs
        }
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=dict(serializer.serialize(result)["M"]))

    project._certpush_fast = True  # type: ignore[attr-defined]
    Item.project = project  # type: ignore[method-assign]


def dynamodb_scalar_values_cast_at_once() -> None:
    """moto 5.2 compares attribute values through ``DynamoType.cast_value``, which asks five type
    questions (number? set? list? map? null?) before it returns a string's value as it is. Every Query
    sorts the whole table by its keys that way (``Table.all_items``), then walks it for the partition:
    on the embedded stack's records table a Query of an empty status partition took 25 ms, most of it
    there (profiled; the dashboard reads nine status partitions per page load). A string, binary or
    boolean value is returned at once, as moto's property returns it after its five questions; every
    other type keeps moto's property. The same values, so the same order and the same answers."""
    from moto.dynamodb.models.dynamo_type import DDBType, DynamoType

    original = DynamoType.__dict__["cast_value"]
    if getattr(original.fget, "_certpush_fast", False):
        return
    as_they_are = frozenset({DDBType.STRING, DDBType.BINARY, DDBType.BOOLEAN})

    def cast_value(self: Any) -> Any:
        return self.value if self.type in as_they_are else original.fget(self)

    cast_value._certpush_fast = True  # type: ignore[attr-defined]
    DynamoType.cast_value = property(cast_value)  # type: ignore[method-assign,assignment]


def dynamodb_tables_sorted_by_key_values() -> None:
    """moto 5.2 sorts the whole table by its keys before every Query and Scan (``Table.all_items``),
    comparing ``DynamoType`` objects: each comparison asks equality (type and value), then order
    (value), each through ``cast_value``. This sorts by the same values, each cast once per item.
    The same order: DynamoType orders by ``cast_value``, and a table's key attributes have one type
    each (moto refuses an item whose key has another type, as DynamoDB does: "Type mismatch for
    key"), so equal values are equal DynamoTypes."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    if getattr(Table.all_items, "_certpush_fast", False):
        return
    original = Table.all_items

    @functools.wraps(original)
    def all_items(self: Any) -> list[Any]:
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        if not all(isinstance(item, Item) for item in items):  # nothing else is stored; if it were, moto's way
            return original(self)
        if self.range_key_attr:
            return sorted(items, key=lambda x: (x.hash_key.cast_value, x.range_key.cast_value))
        return sorted(items, key=lambda x: x.hash_key.cast_value)

    all_items._certpush_fast = True  # type: ignore[attr-defined]
    Table.all_items = all_items  # type: ignore[method-assign]


def acm_key_algorithm(public_key: Any) -> str:
    """ACM's KeyAlgorithm name of a key (``RSA_2048``, ``EC_prime256v1``), or what else it is."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA_{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC_{_ACM_CURVES.get(public_key.curve.name, public_key.curve.name)}"
    return type(public_key).__name__.lstrip("_").removesuffix("PublicKey") or "unknown"


def acm_import_refusal(certificate: bytes, private_key: bytes) -> str | None:
    """Why ACM's ImportCertificate refuses this certificate and key, or None (the checks moto lacks)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if len(certificate) > ACM_CERTIFICATE_MAX_BYTES:
        return (
            "Value at 'certificate' failed to satisfy constraint: "
            f"Member must have length less than or equal to {ACM_CERTIFICATE_MAX_BYTES}"
        )
    if len(private_key) > ACM_PRIVATE_KEY_MAX_BYTES:
        return f"The private key is {len(private_key)} bytes; it must be no larger than 5 KB (5,120 bytes)."
    try:
        cert = x509.load_pem_x509_certificate(certificate)
        key = serialization.load_pem_private_key(private_key, password=None)
    except (ValueError, TypeError):
        return None  # moto's own checks answer these
    if cert.version is not x509.Version.v3:
        return "The certificate must be an X.509 version 3 certificate."
    algorithm = acm_key_algorithm(cert.public_key())
    if algorithm not in ACM_KEY_ALGORITHMS:
        return f"The certificate's key algorithm {algorithm} is not supported."
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        return "The private key does not match the public key in the certificate."
    # sha256WithRSAEncryption, RSASSA-PSS... / ecdsa-with-SHA256...: the signing CA's key algorithm,
    # which must be one ACM supports (RSA, ECDSA); ACM imports an ECDSA certificate under an RSA CA
    name = str(getattr(cert.signature_algorithm_oid, "_name", "")).lower()
    if "rsa" not in name and "ecdsa" not in name:
        return f"The certificate is signed with {name}; the signing CA's algorithm must be RSA or ECDSA."
    return None


def acm_refuses_what_acm_refuses() -> None:
    """ImportCertificate answers ValidationException for what ACM does not import (above)."""
    from moto.acm.exceptions import AWSValidationException
    from moto.acm.models import AWSCertificateManagerBackend

    if getattr(AWSCertificateManagerBackend.import_certificate, "_certpush_checked", False):
        return
    original = AWSCertificateManagerBackend.import_certificate

    @functools.wraps(original)
    def import_certificate(self: Any, certificate: bytes, private_key: bytes, *args: Any, **kwargs: Any) -> Any:
        refusal = acm_import_refusal(certificate, private_key)
        if refusal is not None:
            raise AWSValidationException(refusal)
        return original(self, certificate, private_key, *args, **kwargs)

    import_certificate._certpush_checked = True  # type: ignore[attr-defined]
    AWSCertificateManagerBackend.import_certificate = import_certificate  # type: ignore[method-assign]


def cloudfront_refuses_keys_it_cannot_serve() -> None:
    """CreateDistribution / UpdateDistribution answer InvalidViewerCertificate for an ACM certificate
    whose key CloudFront does not take (above)."""
    from moto.acm.models import acm_backends
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.cloudfront.models import CloudFrontBackend

    if getattr(CloudFrontBackend.update_distribution, "_certpush_checked", False):
        return

    def check(backend: Any, config: dict[str, Any]) -> None:
        arn = (config or {}).get("ViewerCertificate", {}).get("ACMCertificateArn")
        if not arn:
            return
        try:
            bundle = acm_backends[backend.account_id]["us-east-1"].get_certificate(arn)
        except Exception as exc:  # moto's CertificateNotFound: CloudFront names the certificate
            raise CloudFrontException("InvalidViewerCertificate", f"The certificate {arn} does not exist.") from exc
        algorithm = acm_key_algorithm(bundle._cert.public_key())
        if algorithm not in CLOUDFRONT_KEY_ALGORITHMS:
            raise CloudFrontException(
                "InvalidViewerCertificate",
                f"The specified SSL certificate has a key algorithm ({algorithm}) that CloudFront does not support.",
            )

    update, create = CloudFrontBackend.update_distribution, CloudFrontBackend.create_distribution_with_tags

    @functools.wraps(update)
    def update_distribution(self: Any, dist_config: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check(self, dist_config)
        return update(self, dist_config, *args, **kwargs)

    @functools.wraps(create)
    def create_distribution_with_tags(self: Any, distribution_config: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        check(self, distribution_config)
        return create(self, distribution_config, *args, **kwargs)

    update_distribution._certpush_checked = True  # type: ignore[attr-defined]
    CloudFrontBackend.update_distribution = update_distribution  # type: ignore[method-assign]
    CloudFrontBackend.create_distribution_with_tags = create_distribution_with_tags  # type: ignore[method-assign]


def _acm_certificate_users(arn: str) -> list[str]:
    """The load balancers (ELBv2) and distributions (CloudFront) whose listeners or viewer certificate
    name the ACM certificate ``arn``, read from moto's backends of the certificate's account."""
    from moto.cloudfront.models import cloudfront_backends
    from moto.elbv2.models import elbv2_backends

    parts = arn.split(":")
    partition, region, account = parts[1], parts[3], parts[4]
    users: list[str] = []
    if account in elbv2_backends and region in elbv2_backends[account]:
        for balancer in list(elbv2_backends[account][region].load_balancers.values()):
            if any(arn in (listener.certificates or []) for listener in list(balancer.listeners.values())):
                users.append(balancer.arn)
    if region == "us-east-1" and account in cloudfront_backends and partition in cloudfront_backends[account]:
        for distribution in list(cloudfront_backends[account][partition].distributions.values()):
            viewer = getattr(distribution.distribution_config, "ViewerCertificate", None)
            if viewer is not None and getattr(viewer, "acm_certificate_arn", "") == arn:
                users.append(distribution.arn)
    return users


def acm_knows_who_uses_a_certificate() -> None:
    """ACM's InUseBy, and DeleteCertificate refused for a certificate in use.

    ACM lists in InUseBy the AWS resources that use a certificate, and refuses to delete one that is
    in use: ResourceInUseException (ACM API reference: DescribeCertificate, CertificateDetail.InUseBy
    "the ARNs of the AWS resources that are using the certificate"; DeleteCertificate "You cannot delete
    an ACM certificate that is being used by another AWS service"). moto 5.2 fills InUseBy only for a
    Classic Load Balancer and deletes any certificate: a push that removed a second copy of a version
    attached to a listener would pass on moto and be refused on AWS. This adds the users moto knows
    of: ALB/NLB listeners (default and SNI certificates, InUseBy names the load balancer) and
    CloudFront distributions (us-east-1 certificates)."""
    from moto.acm.exceptions import AWSError
    from moto.acm.models import AWSCertificateManagerBackend, CertBundle

    if getattr(CertBundle.describe, "_certpush_in_use", False):
        return
    describe, delete = CertBundle.describe, AWSCertificateManagerBackend.delete_certificate

    @functools.wraps(describe)
    def described(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = describe(self)
        known = result["Certificate"].get("InUseBy") or []
        result["Certificate"]["InUseBy"] = list(dict.fromkeys([*known, *_acm_certificate_users(self.arn)]))
        return result

    @functools.wraps(delete)
    def delete_certificate(self: Any, arn: str) -> None:
        if arn in self._certificates:
            users = [*self._certificates[arn].in_use_by, *_acm_certificate_users(arn)]
            if users:
                raise AWSError(f"Certificate {arn} is in use by {', '.join(users)}", "ResourceInUseException")
        delete(self, arn)

    described._certpush_in_use = True  # type: ignore[attr-defined]
    CertBundle.describe = described  # type: ignore[method-assign]
    AWSCertificateManagerBackend.delete_certificate = delete_certificate  # type: ignore[method-assign]


class AcmRateQuotas:
    """ACM's API rate quotas, per account and region, as ACM enforces them: a request over its operation's
    quota is answered 400 ``ThrottlingException`` ("Rate exceeded") and does nothing. The figures are the
    ones certpush declares (``certpush.providers.aws.quotas.ACM_QUOTAS``, after the ACM quotas page); an
    operation without its own figure counts against ACM's service-wide one. Counted in a sliding window of
    each quota's length; ``throttled`` and ``busiest_window`` say what happened, per (operation, region)."""

    def __init__(self) -> None:
        from certpush.providers.aws.quotas import ACM_QUOTAS

        self.limits = {group.removeprefix("aws:acm").lstrip(":") or "*": q for group, q in ACM_QUOTAS.items()}
        self._sent: dict[tuple[str, str], list[float]] = {}
        self.throttled: dict[str, int] = {}
        self.busiest_window: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, operation: str, region: str, now: float) -> bool:
        own = operation in self.limits
        quota = self.limits.get(operation) or self.limits.get("*")
        if quota is None:
            return True
        key = (operation if own else "*", region)
        with self._lock:
            sent = [t for t in self._sent.get(key, []) if now - t < quota.per_seconds]
            name = f"{key[0]}@{region}"
            if len(sent) >= quota.calls:
                self._sent[key] = sent
                self.throttled[name] = self.throttled.get(name, 0) + 1
                return False
            sent.append(now)
            self._sent[key] = sent
            self.busiest_window[name] = max(self.busiest_window.get(name, 0), len(sent))
            return True


ACM_RATE_QUOTAS: AcmRateQuotas | None = None
"""The quotas enforced once ``acm_enforces_its_rate_quotas`` ran (the moto process: ``--acm-rate-quotas``)."""


def acm_enforces_its_rate_quotas() -> AcmRateQuotas:
    """moto answers every ACM request at any rate; ACM throttles each operation past its per-region rate
    quota (https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html#api-rate-limits). Off unless
    asked (the suites that do not test pacing keep their speed)."""
    import json
    import time

    from moto.acm.responses import AWSCertificateManagerResponse

    global ACM_RATE_QUOTAS
    if ACM_RATE_QUOTAS is not None:
        return ACM_RATE_QUOTAS
    quotas = ACM_RATE_QUOTAS = AcmRateQuotas()
    original = AWSCertificateManagerResponse.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        if not quotas.admit(self._get_action(), self.region, time.monotonic()):
            headers = {**self.response_headers, "Content-Type": "application/x-amz-json-1.1"}
            return 400, headers, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return original(self)

    AWSCertificateManagerResponse.call_action = call_action  # type: ignore[method-assign]
    return quotas
