"""The embedded stack's patches to moto's DynamoDB behave as DynamoDB does (moto_patches.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from certpush_emulators.aws.moto_patches import transactions_without_table_copies

pytestmark = pytest.mark.integration


@pytest.fixture
def table(aws: None) -> Iterator[Any]:
    transactions_without_table_copies()
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield client


def _iterator(client: Any) -> tuple[Any, str]:
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    return streams, iterator


def _put(pk: str, value: str, condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": "t", "Item": {"PK": {"S": pk}, "v": {"S": value}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def test_a_cancelled_transaction_writes_nothing_and_the_stream_goes_on(table: Any) -> None:
    table.put_item(TableName="t", Item={"PK": {"S": "a"}, "v": {"S": "old"}})
    streams, iterator = _iterator(table)

    with pytest.raises(ClientError) as cancelled:
        table.transact_write_items(
            TransactItems=[_put("b", "new"), _put("a", "new", condition="attribute_not_exists(PK)")]
        )
    table.transact_write_items(TransactItems=[_put("c", "after")])

    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in table.get_item(TableName="t", Key={"PK": {"S": "b"}})
    assert table.get_item(TableName="t", Key={"PK": {"S": "a"}})["Item"]["v"] == {"S": "old"}
    # the iterator handed out before the cancelled transaction sees the next change, and only it
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in records] == ["c"]


def test_a_transaction_writes_every_item(table: Any) -> None:
    table.put_item(TableName="t", Item={"PK": {"S": "gone"}, "v": {"S": "x"}})
    table.transact_write_items(
        TransactItems=[
            _put("p", "1", condition="attribute_not_exists(PK)"),
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"PK": {"S": "u"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "2"}},
                }
            },
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "gone"}}}},
        ]
    )

    items = {i["PK"]["S"]: i["v"]["S"] for i in table.scan(TableName="t")["Items"]}
    assert items == {"p": "1", "u": "2"}


def test_one_item_twice_in_a_transaction_is_refused(table: Any) -> None:
    with pytest.raises(ClientError) as refused:
        table.transact_write_items(TransactItems=[_put("a", "1"), _put("a", "2")])

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert table.scan(TableName="t")["Items"] == []


def test_a_write_refused_halfway_puts_back_what_was_written(table: Any) -> None:
    table.put_item(TableName="t", Item={"PK": {"S": "a"}, "v": {"S": "old"}})
    streams, iterator = _iterator(table)

    with pytest.raises(ClientError):
        table.transact_write_items(
            TransactItems=[
                _put("a", "new"),
                {  # moto refuses adding to a string only when it writes
                    "Update": {
                        "TableName": "t",
                        "Key": {"PK": {"S": "a2"}},
                        "UpdateExpression": "SET v = :v ADD w :n",
                        "ExpressionAttributeValues": {":v": {"S": "x"}, ":n": {"S": "not a number"}},
                    }
                },
            ]
        )

    assert table.get_item(TableName="t", Key={"PK": {"S": "a"}})["Item"]["v"] == {"S": "old"}
    assert "Item" not in table.get_item(TableName="t", Key={"PK": {"S": "a2"}})
    assert streams.get_records(ShardIterator=iterator)["Records"] == []


_EVERY_TYPE = {
    "PK": {"S": "item-1"},
    "n": {"N": "12.5"},
    "b": {"B": b"\x00\x01binary\xff"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02\xff"]},
    "m": {"M": {"inner": {"S": "x"}, "none": {"NULL": True}, "flag": {"BOOL": False}}},
    "l": {"L": [{"S": "y"}, {"N": "3"}, {"B": b"\xfe"}]},
    "unicode": {"S": "zhōngwén 中文 ✓"},
}


def _reads(client: Any) -> dict[str, Any]:
    """What each read operation answers, as boto3 parses it."""
    key = {"PK": {"S": "item-1"}}
    pages = [
        client.query(
            TableName="t", KeyConditionExpression="PK = :k", ExpressionAttributeValues={":k": {"S": f"item-{n}"}}
        )
        for n in (1, 2)
    ]
    scanned, start = [], None
    while True:  # one item a page: LastEvaluatedKey carried across
        page = client.scan(TableName="t", Limit=1, **({"ExclusiveStartKey": start} if start else {}))
        scanned += page["Items"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
    return {
        "get": client.get_item(TableName="t", Key=key)["Item"],
        "missing": "Item" in client.get_item(TableName="t", Key={"PK": {"S": "nothing"}}),
        "query": [p["Items"] for p in pages] + [[p["Count"], p["ScannedCount"]] for p in pages],
        "scan": sorted(scanned, key=lambda item: item["PK"]["S"]),
        "batch": client.batch_get_item(RequestItems={"t": {"Keys": [key]}})["Responses"]["t"],
        "projected": client.query(
            TableName="t",
            KeyConditionExpression="PK = :k",
            ExpressionAttributeValues={":k": {"S": "item-1"}},
            ProjectionExpression="b, m.inner",
        )["Items"],
    }


def test_reads_answer_the_same_without_the_generic_serialiser(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB's reads written as they are (dynamodb_reads_without_the_generic_serialiser) answer what
    moto's serialiser answers: every attribute type, binary and unicode, paging, projections, a miss."""
    from moto.dynamodb.responses import DynamoHandler

    from certpush_emulators.aws.moto_patches import dynamodb_reads_without_the_generic_serialiser

    client = table
    client.put_item(TableName="t", Item=_EVERY_TYPE)
    client.put_item(TableName="t", Item={**_EVERY_TYPE, "PK": {"S": "item-2"}})
    serialised = _reads(client)
    for name in ("query", "scan", "get_item", "batch_get_item"):  # put back after the test
        monkeypatch.setattr(DynamoHandler, name, getattr(DynamoHandler, name))
    dynamodb_reads_without_the_generic_serialiser()
    assert getattr(DynamoHandler.query, "_certpush_fast", False)

    assert _reads(client) == serialised
    assert serialised["get"]["b"] == {"B": b"\x00\x01binary\xff"} and serialised["missing"] is False


def _projections(client: Any) -> list[Any]:
    """What queries and reads with a ProjectionExpression answer: top-level names of every type, names
    the item lacks, a name given through ExpressionAttributeNames that holds a dot, and the paths that
    keep moto's own projection (a member, an element)."""
    answers: list[Any] = []
    for expression, names in (
        ("n, b, ss, ns, bs, m, l, PK", None),
        ("l, nothing, n", None),
        ("#dotted, #n", {"#dotted": "a.b", "#n": "n"}),
        ("nothing", None),
        ("m.inner, n", None),
        ("l[1], b", None),
    ):
        named: dict[str, Any] = {"TableName": "t", "ProjectionExpression": expression}
        if names:
            named["ExpressionAttributeNames"] = names
        key = {"S": "item-1"}
        answers.append(
            client.query(KeyConditionExpression="PK = :k", ExpressionAttributeValues={":k": key}, **named)["Items"]
        )
        answers.append(client.get_item(Key={"PK": key}, **named).get("Item"))
        answers.append(client.scan(**named)["Items"])
    return answers


def test_projections_answer_the_same_converting_only_what_they_project(table: Any) -> None:
    """A projection of top-level names that converts only those attributes
    (dynamodb_projections_convert_only_what_they_project) answers what moto's own projection answers."""
    from moto.dynamodb.models.dynamo_type import Item

    from certpush_emulators.aws.moto_patches import dynamodb_projections_convert_only_what_they_project

    client = table
    client.put_item(TableName="t", Item={**_EVERY_TYPE, "a.b": {"S": "dotted"}})
    client.put_item(TableName="t", Item={"PK": {"S": "item-2"}, "n": {"N": "1"}})
    original = Item.project
    moto_answers = _projections(client)
    try:
        dynamodb_projections_convert_only_what_they_project()
        assert getattr(Item.project, "_certpush_fast", False)
        patched_answers = _projections(client)
    finally:
        Item.project = original  # type: ignore[method-assign]

    assert patched_answers == moto_answers
    first = moto_answers[0][0]
    assert list(first) == ["n", "b", "ss", "ns", "bs", "m", "l", "PK"] and first["b"] == {"B": b"\x00\x01binary\xff"}
    assert moto_answers[6] == [{"a.b": {"S": "dotted"}, "n": {"N": "12.5"}}]
    assert moto_answers[9] == [{}] and moto_answers[10] == {}


def test_scalar_values_cast_at_once_are_what_moto_casts() -> None:
    """dynamodb_scalar_values_cast_at_once returns moto's cast of every attribute type (strings,
    binaries and booleans as they are; numbers, sets, lists, maps and null by moto's own property)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    from certpush_emulators.aws.moto_patches import dynamodb_scalar_values_cast_at_once

    values = [*_EVERY_TYPE.values(), {"BOOL": True}, {"S": ""}, {"NULL": True}, {"N": "-0.5"}]
    original = DynamoType.__dict__["cast_value"]
    moto_casts = [DynamoType(value).cast_value for value in values]
    try:
        dynamodb_scalar_values_cast_at_once()
        assert getattr(DynamoType.__dict__["cast_value"].fget, "_certpush_fast", False)
        patched_casts = [DynamoType(value).cast_value for value in values]
    finally:
        DynamoType.cast_value = original  # type: ignore[method-assign]

    assert patched_casts == moto_casts
    assert [type(cast) for cast in patched_casts] == [type(cast) for cast in moto_casts]


def test_tables_sorted_by_key_values_read_in_moto_order(aws: None) -> None:
    """dynamodb_tables_sorted_by_key_values: Scans and Queries of tables keyed by strings, numbers
    (10 after 9, -1 first) and binaries answer in the order moto's own sort gives."""
    from moto.dynamodb.models.table import Table

    from certpush_emulators.aws.moto_patches import dynamodb_tables_sorted_by_key_values

    client = boto3.client("dynamodb", region_name="us-east-1")
    shapes = {"sn": ("S", "N"), "ns": ("N", "S"), "b": ("B", None)}
    for name, (hash_type, range_type) in shapes.items():
        keys = [{"AttributeName": "h", "KeyType": "HASH"}]
        attributes = [{"AttributeName": "h", "AttributeType": hash_type}]
        if range_type:
            keys.append({"AttributeName": "r", "KeyType": "RANGE"})
            attributes.append({"AttributeName": "r", "AttributeType": range_type})
        client.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attributes,
                            BillingMode="PAY_PER_REQUEST")  # fmt: skip
    values = {"S": ["b", "a", "B", "", "ab"], "N": ["10", "9", "-1", "0.5", "100"], "B": [b"\x02", b"\x01", b"\xff"]}
    for hash_value in values["S"]:
        for range_value in values["N"]:
            client.put_item(TableName="sn", Item={"h": {"S": hash_value or "z"}, "r": {"N": range_value}})
    for hash_value in values["N"]:
        for range_value in values["S"]:
            client.put_item(TableName="ns", Item={"h": {"N": hash_value}, "r": {"S": range_value or "z"}})
    for hash_value in values["B"]:
        client.put_item(TableName="b", Item={"h": {"B": hash_value}})

    def reads() -> list[Any]:
        answers: list[Any] = [client.scan(TableName=name)["Items"] for name in shapes]
        answers.append(client.scan(TableName="sn", Limit=7)["Items"])
        answers.append(
            client.query(TableName="ns", KeyConditionExpression="h = :h", ExpressionAttributeValues={":h": {"N": "9"}})
        )
        return answers

    original = Table.all_items
    moto_order = reads()
    try:
        dynamodb_tables_sorted_by_key_values()
        assert getattr(Table.all_items, "_certpush_fast", False)
        patched_order = reads()
    finally:
        Table.all_items = original  # type: ignore[method-assign]

    assert patched_order[:4] == moto_order[:4]
    assert patched_order[4]["Items"] == moto_order[4]["Items"]
    assert [item["r"]["N"] for item in moto_order[0][:5]] == ["-1", "0.5", "9", "10", "100"]
