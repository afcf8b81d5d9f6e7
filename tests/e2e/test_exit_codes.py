"""One exit code per kind of outcome, for every command (``certpush_cli.exit_codes.ExitCode``, docs/operations.md
"Exit codes"): 0 ok, 1 a push (or retraction) failed, 2 usage, 3 refused input or an unknown id with
nothing changed, 4 timeout, 5 the stack or host cannot be reached. One row per command and outcome,
run through the CLI against the embedded stack; every error is one line on stderr."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from certpush_cli.exit_codes import ExitCode
from certpush_cli.main import app
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from certpush_dev.local.fixtures import create_https_listener
from certpush_dev.local.stack import EmbeddedStack
from certpush_dev.stack_commands import app as dev_app
from tests.e2e.conftest import ROOT, CliResult, eventually, write_material

pytestmark = pytest.mark.e2e


@dataclass
class World:
    """What the rows refer to: imported certificates (one pushed and attached to a listener, one never
    pushed), an id nobody imported."""

    imported: str
    pushed: str
    quiet: str
    unknown: str
    files: list[str]
    sample: SampleCertificate
    folder: Path


@pytest.fixture(scope="module")
def world(stack: EmbeddedStack, tmp_path_factory: pytest.TempPathFactory) -> World:
    runner = CliRunner()
    folder = tmp_path_factory.mktemp("exit-codes")
    suffix = uuid.uuid4().hex[:8]
    imported, pushed, quiet = f"codes-{suffix}", f"codes-pushed-{suffix}", f"codes-quiet-{suffix}"
    sample = make_certificate(f"{imported}.example.com")
    files = write_material(folder, sample)
    for certificate_id in (imported, pushed, quiet):
        result = runner.invoke(app, ["certificates", "import", "--id", certificate_id, "--no-push", *files])
        assert result.exit_code == 0, result.output
    listener = create_https_listener("us-east-1", f"lb-{suffix}")
    result = runner.invoke(
        app,
        ["push", pushed, "--to", "aws:elb=us-east-1", "--attach", f"aws:elb={listener}", "--wait", "--timeout", "60"],
    )
    assert result.exit_code == 0, result.output
    return World(imported, pushed, quiet, f"never-imported-{suffix}", files, sample, folder)


def _unreadable(world: World) -> str:
    """A key file its reader may not open: as root (who may open anything) a folder stands in for it,
    which ``open`` refuses the same way (an OSError naming the path)."""
    path = world.folder / "unreadable.key.pem"
    if os.geteuid() == 0:
        path.mkdir(exist_ok=True)
    else:
        path.write_text(world.sample.private_key_pem)
        path.chmod(0)
    return str(path)


def _cert_as_key(world: World) -> list[str]:
    cert = world.files[1]
    return ["--cert", cert, "--key", cert]


def _busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    yield from _busy_port()


Row = tuple[str, Callable[[World], list[str]], ExitCode]

CERTPUSH_ROWS: list[Row] = [
    # push
    ("push ok", lambda w: ["push", w.imported, "--to", "aws:elb=us-east-2", "--wait", "--timeout", "60"], ExitCode.OK),
    ("push unknown region", lambda w: ["push", w.imported, "--to", "aws:elb=mars-north-1", "--wait"], ExitCode.USAGE),
    ("push malformed --to", lambda w: ["push", w.imported, "--to", "aws-elb-us-east-1"], ExitCode.USAGE),
    ("push unknown id", lambda w: ["push", w.unknown, "--to", "aws:elb=us-east-1", "--wait"], ExitCode.REFUSED),
    ("push unknown version", lambda w: ["push", w.imported, "--version", "9", "--to", "aws:elb=us-east-1"],
     ExitCode.REFUSED),
    ("push invalid id", lambda w: ["push", "../etc", "--to", "aws:elb=us-east-1"], ExitCode.REFUSED),
    # replay
    ("replay nothing failed", lambda w: ["replay", w.pushed], ExitCode.OK),
    ("replay unknown id", lambda w: ["replay", w.unknown], ExitCode.REFUSED),
    ("replay without id", lambda w: ["replay"], ExitCode.USAGE),
    ("replay --events without --since", lambda w: ["replay", "--events"], ExitCode.USAGE),
    # records, history, failed
    ("records", lambda w: ["records", w.pushed], ExitCode.OK),
    ("records never pushed", lambda w: ["records", w.quiet], ExitCode.OK),
    ("records unknown id", lambda w: ["records", w.unknown], ExitCode.REFUSED),
    ("records invalid id", lambda w: ["records", "has space"], ExitCode.REFUSED),
    ("history", lambda w: ["history", w.pushed], ExitCode.OK),
    ("history unknown id", lambda w: ["history", w.unknown], ExitCode.REFUSED),
    ("history --limit 0", lambda w: ["history", w.pushed, "--limit", "0"], ExitCode.USAGE),
    ("failed", lambda w: ["failed"], ExitCode.OK),
    # certificates
    ("import again (nothing changes)", lambda w: ["certificates", "import", "--id", w.imported, "--no-push", *w.files],
     ExitCode.OK),
    ("import missing file", lambda w: ["certificates", "import", "--cert", str(w.folder / "nope.pem"), "--key",
                                       w.files[-1]], ExitCode.REFUSED),
    ("import unreadable key file", lambda w: ["certificates", "import", "--cert", w.files[1], "--key",
                                              _unreadable(w)], ExitCode.REFUSED),
    ("import a certificate as --key", lambda w: ["certificates", "import", *_cert_as_key(w)], ExitCode.REFUSED),
    ("import invalid --id", lambda w: ["certificates", "import", "--id", "_bad", *w.files], ExitCode.REFUSED),
    ("import --pkcs12 with --cert", lambda w: ["certificates", "import", "--pkcs12", w.files[1], "--cert",
                                               w.files[1]], ExitCode.USAGE),
    ("import unknown option", lambda w: ["certificates", "import", "--certificate", w.files[1]], ExitCode.USAGE),
    ("certificates list", lambda w: ["certificates", "list"], ExitCode.OK),
    ("certificates show", lambda w: ["certificates", "show", w.imported], ExitCode.OK),
    ("certificates show unknown id", lambda w: ["certificates", "show", w.unknown], ExitCode.REFUSED),
    ("set-status unknown id", lambda w: ["certificates", "set-status", w.unknown, "REVOKED"], ExitCode.REFUSED),
    ("set-status unknown status", lambda w: ["certificates", "set-status", w.imported, "GONE"], ExitCode.USAGE),
    # policies
    ("policies list", lambda w: ["policies", "list"], ExitCode.OK),
    ("policies add invalid name", lambda w: ["policies", "add", "Bad Name", "--pattern", "*.example.com", "--to",
                                             "aws:elb=us-east-1"], ExitCode.REFUSED),
    ("policies add unknown service", lambda w: ["policies", "add", "typo", "--pattern", "*.example.com", "--to",
                                                "aws:alb=us-east-1"], ExitCode.USAGE),
    ("policies remove unknown", lambda w: ["policies", "remove", "no-such-policy"], ExitCode.REFUSED),
    # retract
    ("retract in use", lambda w: ["retract", w.pushed, "--to", "aws:elb=us-east-1"], ExitCode.PUSH_FAILED),
    ("retract nothing there", lambda w: ["retract", w.imported, "--to", "aws:elb=eu-west-1"], ExitCode.OK),
    ("retract unknown region", lambda w: ["retract", w.pushed, "--to", "aws:elb=us-east1"], ExitCode.USAGE),
    ("retract unknown id", lambda w: ["retract", w.unknown, "--to", "aws:elb=us-east-1"], ExitCode.REFUSED),
    ("retract --version and --superseded", lambda w: ["retract", w.pushed, "--to", "aws:elb=us-east-1",
                                                      "--version", "1", "--superseded"], ExitCode.USAGE),
    # dead letters, documents, samples
    ("dead-letters list", lambda w: ["dead-letters", "list"], ExitCode.OK),
    ("openapi to a file", lambda w: ["openapi", "--out", str(w.folder / "openapi.json")], ExitCode.OK),
    ("openapi into a file", lambda w: ["openapi", "--out", f"{w.files[1]}/openapi.json"], ExitCode.REFUSED),
    ("schemas into a file", lambda w: ["schemas", "--out", w.files[1]], ExitCode.REFUSED),
    ("sample-certificate", lambda w: ["sample-certificate", "--out", str(w.folder / "sample")], ExitCode.OK),
    ("no such command", lambda w: ["pusj"], ExitCode.USAGE),
]  # fmt: skip


def _run(args: list[str]) -> CliResult:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def _run_elsewhere(args: list[str], **environment: str) -> CliResult:
    """The command in a process of its own, with its own environment (the embedded stack's threads in
    this one keep theirs)."""
    done = subprocess.run(
        [sys.executable, "-m", "certpush_cli.main", *args],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **environment},
    )  # fmt: skip
    return CliResult(done.returncode, done.stdout, done.stderr)


def _one_line_error(result: CliResult) -> None:
    ours = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(ours) <= 1, result.stderr
    if result.exit_code in (ExitCode.REFUSED, ExitCode.UNREACHABLE, ExitCode.TIMEOUT):
        assert len(ours) == 1 and result.stderr.rstrip().splitlines()[-1] == ours[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(("name", "args", "code"), CERTPUSH_ROWS, ids=[row[0] for row in CERTPUSH_ROWS])
def test_every_command_exits_with_the_code_of_its_outcome(world: World, name: str, args, code: ExitCode) -> None:
    result = _run(args(world))

    assert result.exit_code == code, f"{name}: certpush {' '.join(args(world))}\n{result.stdout}{result.stderr}"
    _one_line_error(result)


def test_a_push_of_an_unknown_id_writes_nothing(world: World, stack: EmbeddedStack) -> None:
    refused = _run(["push", world.unknown, "--to", "aws:elb=us-east-1"])

    assert refused.exit_code == ExitCode.REFUSED and "is not in the inventory" in refused.stderr
    table = boto3.resource("dynamodb").Table(stack.provisioned.outputs["RecordsTableName"])
    items = table.scan(FilterExpression="contains(PK, :id)", ExpressionAttributeValues={":id": world.unknown})
    assert items["Items"] == []


def test_a_certificate_given_as_the_key_says_so(world: World) -> None:
    refused = _run(["certificates", "import", *_cert_as_key(world)])

    assert "this is a certificate, not a private key" in refused.stderr


def test_waiting_longer_than_the_timeout_exits_4(world: World, stack: EmbeddedStack) -> None:
    # every Huawei Cloud call takes 3 s: the push cannot be final
    stack.emulators["huaweicloud"].set_faults(latency_ms=3_000)
    try:
        result = _run(["push", world.imported, "--to", "huaweicloud:waf=cn-north-4", "--wait", "--timeout", "1"])
    finally:
        stack.emulators["huaweicloud"].clear_faults()

    assert result.exit_code == ExitCode.TIMEOUT, result.stderr
    assert "timed out" in result.stderr
    _one_line_error(result)
    eventually(
        lambda: any(r["service"] == "waf" and r["status"] == "SUCCEEDED"
                    for r in _run(["records", world.imported, "--json"]).json()),
        what="the push to end once the simulator answers at its usual speed",
    )  # fmt: skip


def test_a_stack_that_cannot_be_reached_exits_5(world: World) -> None:
    port = next(_busy_port())  # closed again: nothing listens there (connection refused)

    for args in (["push", world.imported, "--to", "aws:elb=us-east-1"], ["records", world.pushed]):
        result = _run_elsewhere(args, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
        assert result.exit_code == ExitCode.UNREACHABLE, result.stderr
        _one_line_error(result)


def test_a_dashboard_on_a_port_in_use_exits_5(world: World, busy_port: int) -> None:
    result = _run(["dashboard", "--port", str(busy_port)])

    assert result.exit_code == ExitCode.UNREACHABLE
    _one_line_error(result)


# -- certpush-dev stack ...: the embedded stack is development tooling, with the same codes ---------------------
DEV_ROWS: list[tuple[str, list[str], ExitCode]] = [
    ("stack env, none running", ["stack", "env"], ExitCode.UNREACHABLE),
    ("stack down, none running", ["stack", "down"], ExitCode.UNREACHABLE),
    ("stack check, none running", ["stack", "check", "some-id"], ExitCode.UNREACHABLE),
    ("stack create-cdn-domain, none running", ["stack", "create-cdn-domain", "a.example.com"], ExitCode.UNREACHABLE),
    ("stack up, no template", ["stack", "up", "--template", "no/such/template.yaml"], ExitCode.REFUSED),
    ("stack unknown command", ["stack", "sideways"], ExitCode.USAGE),
]


@pytest.mark.parametrize(("name", "args", "code"), DEV_ROWS, ids=[row[0] for row in DEV_ROWS])
def test_every_stack_command_exits_with_the_code_of_its_outcome(tmp_path: Path, name: str, args, code) -> None:
    state = ["--state-dir", str(tmp_path)] if args[1] in ("env", "down", "check", "create-cdn-domain") else []

    result = CliRunner().invoke(dev_app, [*args, *state], catch_exceptions=False)

    assert result.exit_code == code, f"{name}: {result.output}"
    _one_line_error(CliResult(result.exit_code, result.stdout, result.stderr))


def test_stack_up_on_a_port_in_use_exits_5(tmp_path: Path, busy_port: int) -> None:
    up = subprocess.run(
        [sys.executable, "-m", "certpush_dev.stack_commands", "stack", "up", "--template", str(ROOT / "template.yaml"),
         "--port", str(busy_port), "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert up.returncode == ExitCode.UNREACHABLE, up.stderr
    assert f"port {busy_port}" in up.stderr and "in use" in up.stderr
