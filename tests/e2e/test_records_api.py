"""The records API on the embedded stack, served by `certpush dashboard`'s adapter: schemathesis
generates requests from the committed OpenAPI document (docs/openapi.json); no answer is a 5xx
and every answer conforms to the document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from certpush.models.domain import TargetSpec
from certpush_cli.dashboard import stack_records_api_server
from certpush_cli.function_url import TOKEN_HEADER, FunctionUrlServer
from certpush_cli.sample_certificates import SampleCertificate
from certpush_dev.local.aws_hooks import InvocationScope
from certpush_dev.local.stack import EmbeddedStack

from .conftest import ROOT, CliResult, emit_issued

pytestmark = pytest.mark.e2e

# 400 is documented for what no schema can say: a cursor this API did not hand out, a reversed or too
# long time window. A method the document does not declare gets Powertools' 404, where schemathesis
# expects a 405.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]},
                "unsupported_method": {"enabled": False}}}
)  # fmt: skip
schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json", config=CONFIG)


@pytest.fixture(scope="module")
def records_api(stack: EmbeddedStack) -> Iterator[FunctionUrlServer]:
    server = stack_records_api_server(stack.stack_name, scope=lambda: InvocationScope("RecordsApiFunction")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pushed(stack: EmbeddedStack, records_api: FunctionUrlServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A certificate with records, so that the generated requests meet data as well as 404s."""
    from typer.testing import CliRunner

    from certpush_cli.main import app
    from certpush_cli.sample_certificates import make_certificate

    sample: SampleCertificate = make_certificate("schema.example.com")
    paths = sample.write(Path(tmp_path_factory.mktemp("schema")))
    runner = CliRunner()
    files = ["--cert", str(paths["cert"]), "--chain", str(paths["chain"]), "--key", str(paths["key"])]
    imported = runner.invoke(app, ["certificates", "import", "--id", "schema", "--no-push", *files])
    assert imported.exit_code == 0, imported.output
    pushed = runner.invoke(app, ["push", "schema", "--to", "aws:elb=us-east-1", "--wait", "--timeout", "60"])
    assert pushed.exit_code == 0, pushed.output
    emit_issued(stack, "schema", [TargetSpec(provider="aws", service="elb", regions=["mars-1"])])  # REJECTED
    return "schema"


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_conforms_and_none_is_a_server_error(case: schemathesis.Case, records_api, pushed) -> None:
    # as the page sends them: a replay (POST) needs JSON and the token of the server's run
    headers = {TOKEN_HEADER: records_api.token, "Content-Type": "application/json"}
    case.call_and_validate(base_url=records_api.url, headers=headers)


__all__ = ["Callable", "CliResult"]
