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
