"""The server side of Huawei Cloud AK/SK signing ("SDK-HMAC-SHA256"): what the API gateway checks
before a request reaches a service, and so what the simulator checks (``server.py``). The signing
itself is the runtime's (``certpush.providers.huaweicloud.signer``): the same canonical request, so a
request the adapters sign verifies here, and a request the official SDK signs as well
(tests/unit/huaweicloud/test_huawei_signer.py)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from certpush.providers.huaweicloud.signer import (
    DATE_FORMAT,
    HEADER_DATE,
    HeaderInput,
    canonical_request,
    compute_signature,
    lowered_headers,
    signed_header_names,
    string_to_sign,
)

# APIGW.0303 beyond 15 minutes between the request's X-Sdk-Date and the gateway's clock (API Gateway "Error Codes")
MAX_CLOCK_SKEW = timedelta(minutes=15)
_AUTHORIZATION_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<sig>[0-9a-fA-F]+)$"
)


class SignatureVerificationError(Exception):
    """A request whose signature or date does not check out. ``code`` follows the API gateway's codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def parse_sdk_date(value: str) -> datetime:
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)


def verify(
    *,
    secret_for: Callable[[str], str | None] | Mapping[str, str],
    method: str,
    target: str,
    headers: HeaderInput,
    body: bytes,
    now: datetime,
    max_skew: timedelta = MAX_CLOCK_SKEW,
) -> str:
    """Checks a received request; ``target`` is the request target as received (path and query).
    Returns the access key that signed it, raises SignatureVerificationError otherwise."""
    lowered = lowered_headers(headers)
    match = _AUTHORIZATION_RE.match(lowered.get("authorization", ""))
    if match is None:
        raise SignatureVerificationError("APIGW.0301", "missing or malformed SDK-HMAC-SHA256 Authorization")
    access_key = match["access"]
    lookup = secret_for.get if isinstance(secret_for, Mapping) else secret_for
    secret_key = lookup(access_key)
    if secret_key is None:
        raise SignatureVerificationError("APIGW.0301", "unknown access key")
    names = match["signed"].split(";")
    if names != signed_header_names(names) or "host" not in names or HEADER_DATE.lower() not in names:
        raise SignatureVerificationError(
            "APIGW.0301", "SignedHeaders must be sorted, lowercase, with host and x-sdk-date"
        )
    missing = [name for name in names if name not in lowered]
    if missing:
        raise SignatureVerificationError("APIGW.0301", f"signed headers not sent: {','.join(missing)}")
    try:
        signed_at = parse_sdk_date(lowered[HEADER_DATE.lower()])
    except ValueError as exc:
        raise SignatureVerificationError("APIGW.0301", "X-Sdk-Date is not YYYYMMDDTHHMMSSZ") from exc
    if abs(now.astimezone(UTC) - signed_at) > max_skew:
        # APIGW.0303: the request's time is more than 15 minutes off the gateway's (API Gateway "Error Codes")
        raise SignatureVerificationError("APIGW.0303", "X-Sdk-Date is outside the allowed window")
    split = urlsplit(target)
    query_pairs = [
        (unquote(key), unquote(value))
        for key, _, value in (part.partition("=") for part in split.query.split("&") if part)
    ]
    canonical = canonical_request(method, split.path, query_pairs, lowered, names, body)
    expected = compute_signature(secret_key, string_to_sign(lowered[HEADER_DATE.lower()], canonical))
    if not hmac.compare_digest(expected, match["sig"].lower()):
        raise SignatureVerificationError("APIGW.0301", "signature does not match")
    return access_key
