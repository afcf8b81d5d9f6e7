"""Where moto, run as a threaded server, is less safe than the service it stands for.

Each patch names the AWS behaviour it restores. Both change no answer DynamoDB would give.

DynamoDB serialises what it must itself; moto does not: a write from another request thread while
moto iterates a table fails with "dictionary changed size during iteration" (a 500 that DynamoDB
would never return). The push worker writes concurrently, so the embedded stack runs moto's
DynamoDB requests one at a time. It changes no answer, only the interleaving."""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

_DYNAMODB = threading.Lock()


def serialise_dynamodb_requests() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_certpush_serialised", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _DYNAMODB:
            return original(self)

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
