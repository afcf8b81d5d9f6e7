"""boto3 clients with botocore's standard retry mode and explicit timeouts.

boto3 itself honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which is how the same
code reaches moto, LocalStack or AWS."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=20,
    user_agent_extra="certpush",
)


def aws_client(service: str, region: str | None = None, session: boto3.Session | None = None) -> Any:
    return (session or boto3.Session()).client(service, region_name=region, config=_CONFIG)


def aws_resource(service: str, region: str | None = None, session: boto3.Session | None = None) -> Any:
    return (session or boto3.Session()).resource(service, region_name=region, config=_CONFIG)
