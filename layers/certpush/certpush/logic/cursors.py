"""Cursors of the records API are signed: HMAC-SHA256 over the query that made them and the store's
own position, so a cursor is good only for that query and only as handed out. A tampered, forged or
foreign cursor is refused (InvalidQueryError, a 400) before any store reads it: the store's position
(a DynamoDB ExclusiveStartKey, an SQLite offset) never comes from a client unchecked.

The key comes from settings (``RECORDS_API_CURSOR_KEY``; the template's ``RecordsApiCursorKey``);
without one, each process makes its own at random: a cursor then holds in the process that made it,
which is all one machine has."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from certpush.errors import InvalidQueryError
from certpush.models.domain import PushQuery

_SEPARATOR = "."


def random_key() -> bytes:
    return secrets.token_bytes(32)


def _query_text(query: PushQuery) -> bytes:
    return query.model_dump_json().encode()


def _mac(key: bytes, query: PushQuery, position: str) -> str:
    digest = hmac.new(key, _query_text(query) + b"\n" + position.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, query: PushQuery, position: str) -> str:
    """The cursor a client gets for the store's ``position`` in ``query``."""
    return f"{position}{_SEPARATOR}{_mac(key, query, position)}"


def verify(key: bytes, query: PushQuery, cursor: str) -> str:
    """The store's position in a cursor this API handed out for ``query``; InvalidQueryError otherwise."""
    position, separator, mac = cursor.rpartition(_SEPARATOR)
    if not separator or not position or not mac.isascii():
        raise InvalidQueryError("cursor is not one this API handed out")
    # the encoded MACs are compared, not their decoded bytes: base64 ignores the last character's low
    # bits, and a cursor that differs in them is not the one handed out
    if not hmac.compare_digest(_mac(key, query, position).encode(), mac.encode()):
        raise InvalidQueryError("cursor is not one this API handed out for this query (or it was changed)")
    return position
