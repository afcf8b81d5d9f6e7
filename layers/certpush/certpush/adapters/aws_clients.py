"""boto3 clients with botocore's standard retry mode and explicit timeouts.

boto3 itself honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which is how the same
code reaches moto, EmbeddedStack or AWS.

Clients come from one shared session, so botocore loads each service model once per process
(a new session per client costs ~0.2 s). Sessions are not thread-safe, clients are: creation is
serialised, use is not."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="certpush",
)
_CREATION = threading.Lock()


@cache
def shared_session() -> boto3.Session:
    """The session every client here comes from (the embedded stack hooks its botocore events)."""
    return boto3.Session()


def aws_client(
    service: str, region: str | None = None, session: boto3.Session | None = None, *, max_attempts: int | None = None
) -> Any:
    """``max_attempts``: the SDK's attempts per call in all (1: no retry), instead of the shared configuration's
    (whose ``max_attempts`` counts retries: 4 retries, 5 attempts in all)."""
    config = (
        _CONFIG
        if max_attempts is None
        else _CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": max_attempts}))
    )
    with _CREATION:
        return (session or shared_session()).client(service, region_name=region, config=config)  # type: ignore[call-overload]


def aws_resource(service: str, region: str | None = None, session: boto3.Session | None = None) -> Any:
    with _CREATION:
        return (session or shared_session()).resource(service, region_name=region, config=_CONFIG)  # type: ignore[call-overload]
