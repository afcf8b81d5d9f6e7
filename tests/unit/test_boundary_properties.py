"""Property tests of every boundary that takes input from outside: issuance events (validator),
SQS bodies (push worker), stream records (notifier) and command-line arguments. At least 1,000
generated inputs each: no unhandled exception, every refusal carries a reason, every failed
batch record is logged once with its id and why."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer.main
import typer.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from certpush.adapters import batch_logging
from certpush.adapters.consumers import PushConsumer, StreamConsumer
from certpush.errors import ConfigurationError
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateVersion, RejectReason
from certpush_cli import backends
from certpush_cli import main as cli_main
from certpush_cli.exit_codes import ExitCode
from certpush_cli.function_url import LocalLambdaContext
from certpush_cli.sample_certificates import make_certificate
from tests.fakes import FakeQueue
from tests.unit.conftest import CERTIFICATE_ID
from tests.unit.test_handlers import issued_event, sqs_record, stream_record

pytestmark = [
    pytest.mark.unit,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]
EXAMPLES = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=24)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
ids = st.sampled_from([CERTIFICATE_ID, "a", "a" * 128, "a" * 129, "../../etc", "ü#1", ""]) | st.text(max_size=140)
targets = st.lists(
    st.fixed_dictionaries(
        {
            "provider": st.sampled_from(["aws", "huaweicloud", "gcp", ""]) | st.text(max_size=40),
            "service": st.sampled_from(["elb", "waf", "cdn"]) | st.text(max_size=40),
            "regions": st.lists(st.sampled_from(["us-east-1", "cn-north-4", "mars-1"]) | st.text(max_size=70),
                                max_size=12),
        },
        optional={"options": json_values},
    ),
    max_size=4,
)  # fmt: skip
details = json_values | st.fixed_dictionaries(
    {"certificate_id": ids},
    optional={
        "version": st.none() | st.integers(-5, 2**63) | st.text(max_size=4),
        "targets": st.none() | targets,
        "issuance_id": st.text(max_size=140),
        "replay": st.booleans(),
    },
)


@pytest.fixture
def warnings_logged(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    logged: list[dict[str, Any]] = []
    monkeypatch.setattr(batch_logging.logger, "warning", lambda msg, extra=None, **_: logged.append(extra or {}))
    return logged


# -- issuance events --------------------------------------------------------------------------------
@EXAMPLES
@given(
    detail=details,
    source=st.sampled_from(["certpush.certificates", "aws.events"]) | st.text(max_size=20),
    detail_type=st.sampled_from(["Certificate Issued", "Scheduled Event"]) | st.text(max_size=20),
    raw=st.none() | json_values,
)
def test_any_event_is_accepted_ignored_or_malformed_never_a_crash(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, validator: Validator,
    hosted_certificate: CertificateVersion, detail: Any, source: str, detail_type: str, raw: Any,
) -> None:  # fmt: skip
    app = _app(load_app, "validator")
    event = issued_event(detail) if raw is None else raw
    if isinstance(event, dict) and raw is None:
        event = {**event, "source": source, "detail-type": detail_type}

    response = app.handler(event, lambda_context, validator=validator)

    assert response["status"] in {"ACCEPTED", "IGNORED", "MALFORMED"}
    if response["status"] == "ACCEPTED":
        assert {reason for reason in response["rejected"].values()} <= {r.value for r in RejectReason}
    else:
        assert response["errors"] and all(isinstance(e, str) and e for e in response["errors"])
    if response["status"] == "IGNORED":
        assert (source, detail_type) != ("certpush.certificates", "Certificate Issued")


_apps: dict[str, ModuleType] = {}


def _app(load_app: Callable[[str], ModuleType], name: str) -> ModuleType:
    """One module per test function (loading a handler per example would be slow)."""
    if name not in _apps:
        _apps[name] = load_app(name)
    return _apps[name]


@pytest.fixture(autouse=True)
def _fresh_apps() -> Iterator[None]:
    _apps.clear()
    yield
    _apps.clear()


# -- SQS bodies -------------------------------------------------------------------------------------
message_fields = st.fixed_dictionaries(
    {},
    optional={
        "push_id": st.text(max_size=40), "issuance_id": st.text(max_size=40), "certificate_id": ids,
        "version": st.integers(-3, 2**40) | st.text(max_size=3), "provider": st.sampled_from(["aws", "x"]),
        "service": st.sampled_from(["elb", "waf"]), "region": st.sampled_from(["us-east-1", ""]),
        "options": json_values,
    },
)  # fmt: skip
bodies = st.text(max_size=80) | json_values.map(json.dumps) | message_fields.map(json.dumps)


@EXAMPLES
@given(batch=st.lists(st.tuples(bodies, st.integers(1, 30)), min_size=1, max_size=5))
def test_any_sqs_batch_reports_each_failure_once_with_its_id_and_why(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, worker: PushWorker,
    queue: FakeQueue, warnings_logged: list[dict[str, Any]], batch: list[tuple[str, int]],
) -> None:  # fmt: skip
    app = _app(load_app, "push_worker")
    warnings_logged.clear()
    event = {"Records": [sqs_record(f"m-{i}", body, count) for i, (body, count) in enumerate(batch)]}

    response = app.handler(event, lambda_context, consumer=PushConsumer(worker, scheduler=queue))

    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert set(failed) <= {f"m-{i}" for i in range(len(batch))}
    assert sorted(w["record_id"] for w in warnings_logged) == sorted(failed)
    assert all(w["reason"] for w in warnings_logged)


# -- stream records ---------------------------------------------------------------------------------
stream_items = st.dictionaries(
    st.sampled_from(["PK", "SK", "type", "certificate_id", "version", "status", "provider", "region", "push_id"])
    | st.text(max_size=8),
    st.text(max_size=20) | st.integers(-(2**40), 2**40) | st.booleans(),
    max_size=9,
).map(lambda item: {"PK": "CERT#x", "SK": "HIST#1", **item})


@EXAMPLES
@given(
    batch=st.lists(
        st.tuples(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]), stream_items, st.booleans()), min_size=1, max_size=5
    )
)
def test_any_stream_batch_reports_each_failure_once_with_its_id_and_why(
    load_app: Callable[[str], ModuleType], lambda_context: LocalLambdaContext, notifier: Notifier,
    warnings_logged: list[dict[str, Any]], batch: list[tuple[str, dict[str, Any], bool]],
) -> None:  # fmt: skip
    app = _app(load_app, "notifier")
    warnings_logged.clear()
    records = []
    for i, (name, item, mangle) in enumerate(batch):
        record = stream_record(name, item, str(100 + i))
        if mangle:
            record["dynamodb"]["NewImage"] = {"PK": {"Q": "not a DynamoDB type"}}
        records.append(record)

    response = app.handler({"Records": records}, lambda_context, consumer=StreamConsumer(notifier))

    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert set(failed) <= {str(100 + i) for i in range(len(batch))}
    assert len(warnings_logged) == len(failed)
    assert all(w["record_id"] and w["reason"] for w in warnings_logged)


# -- command-line arguments -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    sample = make_certificate("cli.example.com")
    folder = tmp_path_factory.mktemp("cli-files")
    contents = {
        "cert.pem": sample.certificate_pem, "key.pem": sample.private_key_pem, "chain.pem": sample.chain_pem,
        "combined.pem": sample.certificate_pem + sample.private_key_pem,
        "fullchain.pem": sample.certificate_pem + sample.chain_pem, "empty.pem": "", "junk.bin": "\x00\x01junk",
    }  # fmt: skip
    for name, text in contents.items():
        (folder / name).write_text(text)
    return [str(folder / name) for name in contents] + [str(folder / "missing.pem"), str(folder)]


@st.composite
def command_lines(draw: st.DrawFn, files: list[str]) -> list[str]:
    path = st.sampled_from(files)
    text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
    certificate_id = st.sampled_from(["shop", "a" * 129, "../x", "-x"]) | text
    kind = draw(st.sampled_from(["import", "pkcs12", "push", "show", "records", "history", "free"]))
    if kind == "import":
        args = ["certificates", "import", "--cert", draw(path), "--key", draw(path), "--no-push"]
        for option in ("--chain", "--id"):
            if draw(st.booleans()):
                args += [option, draw(path if option == "--chain" else certificate_id)]
        args += draw(st.lists(st.sampled_from(["--chain-from-cert", "--json", "--force"]), max_size=3, unique=True))
        return args
    if kind == "pkcs12":
        return ["certificates", "import", "--pkcs12", draw(path), "--no-push"]
    if kind == "push":
        to = draw(st.sampled_from(["aws:elb=us-east-1", "huaweicloud:waf=cn-north-4,x", "bad", "a:b="]) | text)
        return ["push", draw(certificate_id), "--to", to, *draw(st.sampled_from([[], ["--wait", "--json"]]))]
    if kind == "history":
        return ["history", draw(certificate_id), "--limit", draw(st.sampled_from(["10", "0", "x", "101"]))]
    if kind in ("show", "records"):
        return [*(["certificates"] if kind == "show" else []), kind, draw(certificate_id)]
    return draw(st.lists(text, max_size=5))


def _no_backend(stack: str | None, home: Path | None) -> None:
    raise ConfigurationError(f"no certpush stack named '{stack}' nor home {home} here (unit tests have none)")


def test_any_command_line_ends_in_a_documented_exit_code_and_never_a_traceback(
    cli_files: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backends, "open_backend", _no_backend)
    monkeypatch.setenv("CERTPUSH_PKCS12_PASSWORD", "")
    runner = CliRunner()
    command = typer.main.get_command(cli_main.app)
    # built once: typer's runner builds the click command on every invoke, which costs more than the run
    monkeypatch.setattr(typer.testing, "_get_command", lambda app: command)

    @EXAMPLES
    @given(args=command_lines(cli_files))
    def run(args: list[str]) -> None:
        result = runner.invoke(cli_main.app, args, prog_name="certpush")

        assert result.exit_code in set(ExitCode), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Traceback" not in result.output
        ours = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        if ours:  # one line with the reason (click's own usage errors have their usual form)
            assert len(ours) == 1 and result.exit_code in (ExitCode.USAGE, ExitCode.REFUSED, ExitCode.ERROR)
            assert result.stderr.rstrip().splitlines()[-1] == ours[0]  # nothing of it spills onto more lines

    run()


def test_private_key_material_never_reaches_the_terminal(cli_files: list[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(backends, "open_backend", _no_backend)
    combined, key = next(f for f in cli_files if f.endswith("combined.pem")), cli_files[1]

    result = CliRunner().invoke(cli_main.app, ["certificates", "import", "--cert", combined, "--key", key])

    assert result.exit_code == ExitCode.REFUSED
    assert "PRIVATE KEY-----" not in result.output and Path(key).read_text()[40:80] not in result.output
