"""What the edges say about input they refuse: the validator names foreign events, batch
processors name every record they fail, the CLI prints messages as they are."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from certpush.adapters import batch_logging
from certpush.adapters.consumers import PushConsumer
from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush_cli.exit_codes import ExitCode
from certpush_cli.function_url import LocalLambdaContext
from certpush_cli.main import app as cli_app
from tests.fakes import FakeQueue
from tests.unit.test_handlers import sqs_record

pytestmark = [
    pytest.mark.unit,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

# what `sam local generate-event cloudwatch scheduled-event` produces
SCHEDULED_EVENT = {
    "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c", "detail-type": "Scheduled Event", "source": "aws.events",
    "account": "123456789012", "time": "1970-01-01T00:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/ExampleRule"], "detail": {}, "version": "0",
}  # fmt: skip


def test_the_validator_logs_and_ignores_an_event_it_does_not_document(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, validator: Validator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    app = load_app("validator")
    logged: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(app.logger, "warning", lambda msg, extra=None, **_: logged.append((msg, extra or {})))

    response = app.handler(SCHEDULED_EVENT, lambda_context, validator=validator)

    assert response["status"] == "IGNORED"
    assert logged == [
        (
            "ignored an event that is not a Certificate Issued event from certpush.certificates",
            {"source": "aws.events", "detail-type": "Scheduled Event"},
        )
    ]


def test_a_poison_message_is_logged_once_with_its_id_and_why_but_never_its_body(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, worker: PushWorker,
    queue: FakeQueue, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    app = load_app("push_worker")
    logged: list[dict[str, Any]] = []
    monkeypatch.setattr(batch_logging.logger, "warning", lambda msg, extra=None, **_: logged.append(extra or {}))
    secret_looking = json.dumps({"push_id": "p", "certificate_id": "x", "note": "hunter2"})

    response = app.handler(
        {"Records": [sqs_record("m-poison", secret_looking), sqs_record("m-junk", "{not json")]},
        lambda_context, consumer=PushConsumer(worker, scheduler=queue),
    )  # fmt: skip

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-poison"}, {"itemIdentifier": "m-junk"}]}
    assert [entry["record_id"] for entry in logged] == ["m-poison", "m-junk"]
    assert all(entry["reason"].startswith("malformed record") for entry in logged)
    assert "issuance_id" in logged[0]["reason"]  # says which field is wrong
    assert "hunter2" not in json.dumps(logged)


def test_cli_errors_print_brackets_as_they_are() -> None:
    result = CliRunner().invoke(
        cli_app, ["policies", "add", "Bad Name!", "--pattern", "*.x", "--to", "aws:elb=us-east-1"]
    )

    assert result.exit_code == ExitCode.REFUSED
    assert "^[a-z0-9-]{1,32}$" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
