"""Where moto, run as a threaded server, is less safe than the service it stands for.

DynamoDB serialises what it must itself; moto does not: its TransactWriteItems deep-copies every
table to roll back on failure (``moto/dynamodb/models/__init__.py``), and a write from another
request thread during that copy fails it with "dictionary changed size during iteration" (a 500
that DynamoDB would never return). The push worker writes concurrently, so the embedded stack
runs moto's DynamoDB requests one at a time. It changes no answer, only the interleaving."""

from __future__ import annotations

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


def keep_streams_across_cancelled_transactions() -> None:
    """A cancelled TransactWriteItems leaves a table's stream as it was (DynamoDB developer guide,
    "Change data capture for DynamoDB Streams": a stream record is written only for a change made).
    moto rolls back by putting a deep copy of the table in its place, copy of the stream included:
    the shard iterators already handed out keep reading the old shard and see no later change, so
    the notifier's stream poller would go deaf after the first lost condition. The copy stays (it
    is moto's rollback) but takes over the old shard, without what the cancelled writes added."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.transact_write_items, "_certpush_streams_kept", False):
        return
    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> Any:
        tables = dict(self.tables)
        try:
            return original(self, transact_items)
        finally:
            for name, table in tables.items():
                restored = self.tables.get(name)
                shard = table.stream_shard
                if restored is None or restored is table or shard is None or restored.stream_shard is None:
                    continue
                del shard.items[len(restored.stream_shard.items) :]
                shard.table = restored
                restored.stream_shard = shard

    transact_write_items._certpush_streams_kept = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
