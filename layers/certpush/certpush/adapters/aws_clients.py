"""boto3 clients with botocore's standard retry mode and explicit timeouts.

boto3 itself honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which is how the same
code reaches moto, EmbeddedStack or AWS.

Clients come from one shared session, so botocore loads each service model once per process
(a new session per client costs ~0.2 s). Sessions are not thread-safe, clients are: creation is
serialised, use is not."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="certpush",
)
_CREATION = threading.Lock()
_shared: list[tuple[boto3.Session, botocore.session.Session]] = []  # the one session, once made


def shared_session() -> boto3.Session:
    """The session every client here comes from (the embedded stack hooks its botocore events)."""
    with _CREATION:
        if not _shared:
            core = botocore.session.get_session()
            _shared.append((boto3.Session(botocore_session=core), core))
        return _shared[0][0]


def renew_shared_session() -> boto3.Session:
    """A new shared session, for an environment restored from a SnapStart snapshot: its own
    credential resolver and no client (so no pooled connection) of the snapshotted one. The parsed
    service models are kept (the session's ``data_loader`` component, botocore.session.Session.
    register_component): they are the same files, and loading them again is most of a client's cost."""
    shared_session()
    with _CREATION:
        core = botocore.session.get_session()
        core.register_component("data_loader", _shared[0][1].get_component("data_loader"))
        _shared[0] = (boto3.Session(botocore_session=core), core)
        return _shared[0][0]


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
    session = session or shared_session()
    with _CREATION:
        return session.client(service, region_name=region, config=config)  # type: ignore[call-overload]


def aws_resource(service: str, region: str | None = None, session: boto3.Session | None = None) -> Any:
    session = session or shared_session()
    with _CREATION:
        return session.resource(service, region_name=region, config=_CONFIG)  # type: ignore[call-overload]
