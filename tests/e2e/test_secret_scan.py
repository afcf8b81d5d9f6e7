"""The demo scenario with every channel captured, then scanned for private-key material.

Captured while it runs: every AWS API call in this process (parameters and answers: queue bodies
sent and received, stream records, events, notifications, table writes), every log record, every
Huawei Cloud answer and the CLI's output. Scanned after: every item of every table, every
certificate field in ACM and in the Huawei Cloud simulator. The only places a key may be are
Secrets Manager, the ``PrivateKey`` of ACM ImportCertificate, the request bodies of Huawei
Cloud certificate calls and the key fields Huawei Cloud documents in its certificate answers
(WAF ``key``, ELB ``private_key``): everything else must hold zero hits."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import httpx
import pytest

from certpush_cli.sample_certificates import make_certificate, other_private_key
from certpush_dev.local.fixtures import create_https_listener
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e

KEY_MARKER = "PRIVATE" + " KEY"
# where a key legitimately travels: (service, operation) -> parameters that may hold it
KEY_HOLDERS = {("acm", "ImportCertificate"): {"PrivateKey"}}
KEY_SERVICES = {"secretsmanager"}
# the fields of Huawei Cloud certificate answers that hold the key, as the API references document
# (WAF ShowCertificate / CreateCertificate "key", ELB CertificateInfo "private_key")
HUAWEI_KEY_FIELDS = {"key", "private_key"}


def _split_keys(value: Any, keys: list[str]) -> Any:
    """``value`` without the documented key fields; what they held goes to ``keys``."""
    if isinstance(value, dict):
        kept = {}
        for name, item in value.items():
            if name in HUAWEI_KEY_FIELDS and isinstance(item, str):
                keys.append(item)
            else:
                kept[name] = _split_keys(item, keys)
        return kept
    if isinstance(value, list):
        return [_split_keys(item, keys) for item in value]
    return value


class Capture:
    def __init__(self) -> None:
        self.channels: dict[str, list[str]] = {}
        self.key_channel: list[str] = []  # what legitimately holds keys: the positive control

    def add(self, channel: str, value: Any) -> None:
        self.channels.setdefault(channel, []).append(
            value if isinstance(value, str) else json.dumps(value, default=str)
        )

    def calls(self, channel: str) -> str:
        return "\n".join(self.channels.get(channel, []))


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    captured = Capture()
    make_api_call = botocore.client.BaseClient._make_api_call
    handle = logging.Logger.handle
    send = httpx.Client.send

    def recording_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        answer = make_api_call(client, operation, params)
        if service in KEY_SERVICES:
            captured.key_channel.append(json.dumps([params, answer], default=str))
            return answer
        allowed = KEY_HOLDERS.get((service, operation), set())
        captured.add(f"aws:{service}:{operation}", {k: v for k, v in params.items() if k not in allowed})
        captured.add(f"aws:{service}:{operation}:answer", answer)
        return answer

    def recording_handle(logger: logging.Logger, record: logging.LogRecord) -> None:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        captured.add(f"log:{record.name}", text)
        handle(logger, record)

    def recording_send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = send(client, request, **kwargs)
        text = response.read().decode(errors="replace")
        if "/waf/certificate" in request.url.path or "/elb/certificates" in request.url.path:
            with contextlib.suppress(ValueError):  # not JSON: scanned as it is
                text = json.dumps(_split_keys(json.loads(text), captured.key_channel))
        captured.add("huaweicloud:answer", text)
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording_call)
    monkeypatch.setattr(logging.Logger, "handle", recording_handle)
    monkeypatch.setattr(httpx.Client, "send", recording_send)
    yield captured


def _key_fragments(*keys: str) -> list[str]:
    """Lines of base64 from each key's body: any one found anywhere is key material."""
    return [line for key in keys for line in key.splitlines() if len(line) >= 40 and "-----" not in line]


def _hits(text: str, fragments: list[str]) -> list[str]:
    found = [KEY_MARKER] if KEY_MARKER in text else []
    return found + [f for f in fragments if f in text]


def _all_table_items() -> str:
    dynamodb = boto3.client("dynamodb")
    items = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items += page["Items"]
    assert items
    return json.dumps(items, default=str)


def _acm_certificate_fields(regions: list[str]) -> str:
    fields = []
    for region in regions:
        acm = boto3.client("acm", region_name=region)
        for summary in acm.list_certificates()["CertificateSummaryList"]:
            arn = summary["CertificateArn"]
            fields.append(acm.describe_certificate(CertificateArn=arn)["Certificate"])
            got = acm.get_certificate(CertificateArn=arn)
            fields.append({k: got.get(k) for k in ("Certificate", "CertificateChain")})
    assert fields
    return json.dumps(fields, default=str)


def test_no_private_key_material_anywhere_but_where_keys_belong(cli, stack, capture, tmp_path, certificate_id):
    sample = make_certificate(f"{certificate_id}.example.com", sans=[f"{certificate_id}.example.com"])
    stranger_key = other_private_key()
    folder = Path(tmp_path)
    files = sample.write(folder)
    (folder / "combined.pem").write_text(sample.certificate_pem + sample.private_key_pem)
    (folder / "stranger.key").write_text(stranger_key)
    (folder / "fullchain.pem").write_text(sample.chain_pem + sample.root_pem)
    outputs = []

    # refused: a key where a certificate goes
    outputs.append(cli("certificates", "import", "--id", certificate_id, "--no-push",
                       "--cert", str(folder / "combined.pem"), "--key", str(files["key"]), expect=3))  # fmt: skip
    # the demo: import, push to every target with a listener attachment
    outputs.append(cli("certificates", "import", "--id", certificate_id, "--no-push", "--cert", str(files["cert"]),
                       "--key", str(files["key"]), "--chain", str(folder / "fullchain.pem")))  # fmt: skip
    listener = create_https_listener("us-east-1", f"scan-{certificate_id[-8:]}")
    outputs.append(cli("push", certificate_id, "--to", "aws:elb=us-east-1,eu-west-1",
                       "--to", "huaweicloud:waf=cn-north-4", "--to", "huaweicloud:elb=cn-north-4",
                       "--attach", f"aws:elb={listener}", "--wait", "--timeout", "90"))  # fmt: skip
    # a forced import of a key that does not match: rejected before any push
    outputs.append(cli("certificates", "import", "--id", certificate_id, "--no-push", "--force",
                       "--cert", str(files["cert"]), "--key", str(folder / "stranger.key")))  # fmt: skip
    outputs.append(cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60", expect=1))
    outputs.append(cli("history", certificate_id, "--json"))
    outputs.append(cli("certificates", "show", certificate_id, "--json"))

    def summaries() -> bool:
        return capture.calls("aws:events:PutEvents").count("Certificate Push Summary") >= 2

    eventually(summaries, timeout=60, what="both issuances summarised by the notifier")
    fragments = _key_fragments(sample.private_key_pem, stranger_key)
    # positive control: the markers do find the key where it belongs (Secrets Manager)
    assert fragments and _hits("".join(capture.key_channel), fragments)

    channels = dict(capture.channels)
    channels["cli"] = [o.stdout + o.stderr for o in outputs]
    channels["tables"] = [_all_table_items()]
    channels["acm"] = [_acm_certificate_fields(["us-east-1", "eu-west-1"])]
    channels["huaweicloud:certificates"] = [json.dumps(stack.emulators["huaweicloud"].certificate_fields())]
    for must_see in ("aws:sqs:SendMessageBatch", "aws:sqs:ReceiveMessage:answer", "aws:events:PutEvents",
                     "aws:sns:PublishBatch", "aws:acm:ImportCertificate", "huaweicloud:answer"):  # fmt: skip
        assert capture.calls(must_see), f"nothing captured on {must_see}: the scan would prove nothing"
    assert any(name.startswith("aws:dynamodbstreams:GetRecords") for name in channels)
    assert any(name.startswith("log:") for name in channels)

    hits = {name: _hits("\n".join(values), fragments) for name, values in channels.items()}
    assert {name: found for name, found in hits.items() if found} == {}
