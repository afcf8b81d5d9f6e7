"""No key in any log at any level (issue 18): every handler runs on real-looking events with every
log level turned up as an operator could (Lambda's advanced logging controls, Powertools, the
event logged), against moto so that ``GetSecretValue`` and ``ImportCertificate`` really go through
botocore, and everything written is scanned for the private key: stdout, stderr and every record of
every logger (a handler on the root logger at DEBUG, as Lambda's runtime installs one).

The controls prove the scan finds a key when one is there: the same capture with botocore's logger
at DEBUG (what the handlers undo) finds the key in ``GetSecretValue``'s answer, and a key logged on
purpose is found in each of its forms."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

from certpush.log_hygiene import LIBRARY_LOGGERS, pin_library_loggers
from certpush.models.domain import CertificateMaterial
from certpush.providers.registry import REGISTRY
from certpush.settings import Settings
from certpush.wiring import SystemClock, certificate_store
from certpush_cli.function_url import LocalLambdaContext, function_url_event
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate
from certpush_dev.local.pollers import load_handler
from certpush_dev.local.provision import FunctionSpec, ProvisionedStack
from tests.integration.conftest import REGION
from tests.key_material import KeyMaterial

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

CERTIFICATE_ID = "log-hygiene"
EVERY_LEVEL_UP = {
    "AWS_LAMBDA_LOG_LEVEL": "DEBUG",  # Lambda's advanced logging controls: the root logger's level
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
    "LOG_LEVEL": "DEBUG",
    "POWERTOOLS_LOGGER_LOG_EVENT": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
}


class _Everything(logging.Handler):
    """Every record of every logger that reaches the root, formatted with its arguments and extras."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + " " + json.dumps(record.__dict__, default=repr)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def debug_everywhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Everything]:
    """The root logger at DEBUG with a handler, as Lambda's runtime sets it with AWS_LAMBDA_LOG_LEVEL,
    and the libraries' loggers as a fresh process has them (inheriting the root's level)."""
    for name, value in EVERY_LEVEL_UP.items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    _unpin()
    capture = _Everything()
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def _spec(stack: ProvisionedStack, logical_id: str) -> FunctionSpec:
    return next(spec for spec in stack.functions if spec.logical_id == logical_id)


def _handler(stack: ProvisionedStack, logical_id: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The function's handler loaded afresh under its environment (Powertools reads it at import),
    with the libraries' loggers as a fresh process has them: each handler must pin them itself."""
    spec = _spec(stack, logical_id)
    for name, value in spec.environment.items():
        monkeypatch.setenv(name, value)
    _unpin()
    return load_handler(spec)


def _unpin() -> None:
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in LIBRARY_LOGGERS:
            logger.setLevel(logging.NOTSET)
            logger.filters.clear()


def _context(name: str) -> LocalLambdaContext:
    return LocalLambdaContext(name, 60)


def _scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "5b7a4c1e-3c1f-4b8e-8c1e-2d3f4a5b6c7d",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-27T12:00:00Z",
        "region": REGION,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/certpush-daily"],
        "detail": {},
    }


def _issued_event(certificate_id: str) -> dict[str, Any]:
    return {
        **_scheduled_event(),
        "id": "0c5a7a61-1b1f-4f8e-9d0e-6e1d2b3c4d5e",
        "detail-type": "Certificate Issued",
        "source": "certpush.certificates",
        "resources": [],
        "detail": {
            "certificate_id": certificate_id,
            "version": 1,
            "targets": [{"provider": "aws", "service": "elb", "regions": [REGION]}],
        },
    }


def _sqs_event(queue_url: str, queue_arn: str) -> dict[str, Any]:
    sqs = boto3.client("sqs", region_name=REGION)
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }
        for m in answer.get("Messages", [])
    ]
    assert records, "the validator queued no push"
    return {"Records": records}


def _history_stream_event(table_name: str) -> dict[str, Any]:
    """The history inserts of the records table as its stream delivers them to the notifier."""
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table_name)["Items"]
    history = [item for item in items if item.get("type", {}).get("S") == "HIST"]
    assert history, "the push worker wrote no history"
    return {
        "Records": [
            {
                "eventID": f"event-{n}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "eventSourceARN": f"arn:aws:dynamodb:{REGION}:123456789012:table/{table_name}/stream/2026-11-27",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795780800.0,
                    "Keys": {"PK": item["PK"], "SK": item["SK"]},
                    "NewImage": item,
                    "SequenceNumber": f"{n:021d}",
                    "SizeBytes": 512,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for n, item in enumerate(history, start=1)
        ]
    }


def _record_status(table_name: str) -> str:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table_name)["Items"]
    current = [item for item in items if item["SK"]["S"].startswith("PUSH#")]
    return ",".join(sorted(item["status"]["S"] for item in current))


def _import(stack: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> KeyMaterial:
    sample = make_certificate("log-hygiene.example.com", key_type="rsa")
    for name, value in _spec(stack, "ValidatorFunction").environment.items():
        monkeypatch.setenv(name, value)
    import os

    store = certificate_store(Settings.from_env(os.environ))
    material = CertificateMaterial(
        certificate_pem=sample.certificate_pem,
        chain_pem=sample.chain_pem,
        private_key_pem=SecretStr(sample.private_key_pem),
    )
    import_certificate(store, SystemClock(), material, CERTIFICATE_ID, catalog=REGISTRY)
    return KeyMaterial(sample.private_key_pem, sample.certificate_pem)


def _scan(key: KeyMaterial, capture: _Everything, capfd: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    written = capfd.readouterr()
    channels = {"stdout": written.out, "stderr": written.err, "loggers": "\n".join(capture.lines)}
    capture.lines.clear()
    return {channel: hits for channel, text in channels.items() if (hits := key.find(text))}


def test_no_handler_logs_key_material_with_every_level_at_debug(
    clean_stack: ProvisionedStack,
    debug_everywhere: _Everything,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = clean_stack
    key = _import(stack, monkeypatch)
    capfd.readouterr()  # what the import wrote is not a handler's (the CLI pins the loggers in main)
    debug_everywhere.lines.clear()
    records_table = stack.outputs["RecordsTableName"]
    push_queue_arn = f"arn:aws:sqs:{REGION}:{stack.account}:{stack.name}-push"

    validated = _handler(stack, "ValidatorFunction", monkeypatch)(_issued_event(CERTIFICATE_ID), _context("validator"))
    assert validated["status"] == "ACCEPTED" and validated["queued"], validated
    pushed = _handler(stack, "PushWorkerFunction", monkeypatch)(
        _sqs_event(stack.outputs["PushQueueUrl"], push_queue_arn), _context("push-worker")
    )
    assert pushed == {"batchItemFailures": []}
    assert _record_status(records_table) == "SUCCEEDED"  # ImportCertificate went through, key and all
    notified = _handler(stack, "NotifierFunction", monkeypatch)(
        _history_stream_event(records_table), _context("notifier")
    )
    assert notified == {"batchItemFailures": []}
    records_api = _handler(stack, "RecordsApiFunction", monkeypatch)
    for method, path in [
        ("GET", "/certificates"),
        ("GET", f"/certificates/{CERTIFICATE_ID}"),
        ("GET", "/pushes?status=SUCCEEDED"),
        ("GET", "/summary"),
        ("POST", f"/certificates/{CERTIFICATE_ID}/replay"),
    ]:
        answer = records_api(function_url_event(method, path, {}, b"", 443), _context("records-api"))
        assert answer["statusCode"] in (200, 404), (path, answer)
    _handler(stack, "ExpiryWarningFunction", monkeypatch)(_scheduled_event(), _context("expiry-warning"))
    _handler(stack, "SweeperFunction", monkeypatch)(_scheduled_event(), _context("sweeper"))

    assert len(debug_everywhere.lines) > 20, "the loggers were not at DEBUG: the scan would prove nothing"
    assert _scan(key, debug_everywhere, capfd) == {}


def test_the_scan_finds_a_key_that_botocore_logs_at_debug(
    clean_stack: ProvisionedStack,
    debug_everywhere: _Everything,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: what the handlers prevent. botocore's logger inheriting DEBUG from the root (as
    without ``pin_library_loggers``) logs GetSecretValue's answer, key and all."""
    key = _import(clean_stack, monkeypatch)
    capfd.readouterr()
    debug_everywhere.lines.clear()
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secret_id = next(
        s["Name"]
        for s in secrets.list_secrets()["SecretList"]
        if s["Name"].startswith(clean_stack.outputs["SecretsPrefix"] + "/")
    )
    secrets.get_secret_value(SecretId=secret_id)
    found = _scan(key, debug_everywhere, capfd)
    assert "loggers" in found, "botocore at DEBUG logged GetSecretValue's answer, yet the scan found nothing"

    pin_library_loggers()  # what every handler does first
    secrets.get_secret_value(SecretId=secret_id)
    assert _scan(key, debug_everywhere, capfd) == {}


def test_the_scan_finds_every_form_of_a_key() -> None:
    sample = make_certificate("scan.example.com", key_type="rsa")
    key = KeyMaterial(sample.private_key_pem, sample.certificate_pem)
    body = "".join(line for line in sample.private_key_pem.splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    forms = {
        "PEM marker": sample.private_key_pem,
        "base64 of the DER (a PEM body)": json.dumps({"SecretString": body[800:900]}),
        "the PEM base64-encoded": base64.b64encode(sample.private_key_pem.encode()).decode(),
        "DER bytes": repr(der[300:400]),
        "DER hex": der[300:400].hex(),
    }
    for form, text in forms.items():
        assert any(hit.startswith(form) for hit in key.find(text)), form
    public = sample.certificate_pem + sample.chain_pem + json.dumps({"Certificate": sample.certificate_pem})
    assert key.find(public) == []  # a certificate is public: logging it is no finding


def test_pinning_holds_against_a_library_logger_set_to_debug_afterwards(
    debug_everywhere: _Everything, tmp_path: Path
) -> None:
    pin_library_loggers()
    logging.getLogger("botocore.endpoint").setLevel(logging.DEBUG)  # e.g. boto3.set_stream_logger
    logging.getLogger("botocore.endpoint").debug("Making request with params: %s", "BODY")
    pin_library_loggers()
    logging.getLogger("botocore.parsers").debug("Response body: %s", "BODY")
    logging.getLogger("httpx").info("HTTP Request: %s", "BODY")
    logging.getLogger("botocore.endpoint").warning("a warning still reaches the logs")
    assert not [line for line in debug_everywhere.lines if "BODY" in line]
    assert any("a warning still reaches the logs" in line for line in debug_everywhere.lines)
