"""BatchGetItem with its limits handled: at most 100 keys per request, and the keys DynamoDB
leaves unprocessed (throttling, 16 MB) asked for again.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_KEYS = 100
MAX_ROUNDS = 5


def batch_get(
    client: Any, table_name: str, keys: Sequence[tuple[str, str]], *, consistent: bool = False
) -> list[dict[str, Any]]:
    """Items for (PK, SK) keys, through a resource's client (plain Python values in and out)."""
    unique = list(dict.fromkeys(keys))
    items: list[dict[str, Any]] = []
    for start in range(0, len(unique), MAX_KEYS):
        request: dict[str, Any] = {
            table_name: {
                "Keys": [{"PK": pk, "SK": sk} for pk, sk in unique[start : start + MAX_KEYS]],
                "ConsistentRead": consistent,
            }
        }
        for _ in range(MAX_ROUNDS):
            response = client.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
    return items
