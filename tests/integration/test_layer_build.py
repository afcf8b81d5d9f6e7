"""The layer build that `sam build` runs (layers/certpush/Makefile), run here for real: wheels for
the Lambda runtime, the certpush package, and neither the CLI nor the embedded stack."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
from botocore.loaders import Loader

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    artifacts = tmp_path_factory.mktemp("layer")
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT / "layers" / "certpush"), "build-CertpushLayer",
         f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    return result, artifacts / "python"


def test_the_layer_holds_certpush_and_runtime_wheels_but_not_the_cli(
    build: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, python = build
    assert result.returncode == 0, result.stdout + result.stderr
    assert (python / "certpush" / "wiring.py").is_file()
    assert (python / "certpush" / "providers" / "huaweicloud" / "signer.py").is_file()
    assert not (python / "certpush_dev").exists()
    for package in ("aws_lambda_powertools", "httpx", "cryptography", "pydantic"):
        assert (python / package).is_dir(), package
    for absent in ("typer", "rich", "moto", "yaml"):
        assert not (python / absent).exists(), absent
    assert not (python / "bin").exists()  # console scripts naming the build machine's Python
    _assert_every_named_service_model_ships(python)
    compiled = [p.name for p in (python / "pydantic_core").glob("*.so")]
    assert compiled and all("cpython-312" in name for name in compiled), compiled
    if "no CPython 3.12 found" in result.stderr:
        assert not list(python.rglob("__pycache__"))  # no bytecode rather than the wrong version's
        pytest.skip("no CPython 3.12 on this machine: the bytecode was not built")
    _assert_runtime_bytecode(python)


def _services_the_code_names() -> set[str]:
    """Every botocore service the layer's code names as the first argument of a call to a client or
    resource factory (``aws_client("sqs")``, ``aws_resource("dynamodb")``, ``self._client("acm", ...)``)."""
    known = set(botocore.session.get_session().get_available_services())
    named: set[str] = set()
    for source in (ROOT / "layers" / "certpush" / "certpush").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0].value if isinstance(node.args[0], ast.Constant) else None
            if callee.endswith(("client", "resource")) and isinstance(first, str) and first in known:
                named.add(first)
    return named


def _assert_every_named_service_model_ships(python: Path) -> None:
    """The layer ships the service models of the services its code calls, and no others (Makefile:
    BOTOCORE_SERVICES): a client of a service whose model was left out fails only on AWS."""
    named = _services_the_code_names()
    assert {"dynamodb", "sqs", "secretsmanager", "events", "sns", "acm", "elbv2", "cloudfront"} <= named, named
    shipped = {p.name for p in (python / "botocore" / "data").iterdir() if p.is_dir()}
    assert named <= shipped, named - shipped
    assert {"sts", "sso", "sso-oidc"} <= shipped  # botocore's own credential providers' clients
    assert len(shipped) < 20, sorted(shipped)  # not the other ~430 services
    loader = Loader(extra_search_paths=[str(python / "botocore" / "data"), str(python / "boto3" / "data")],
                    include_default_search_paths=False)  # fmt: skip
    for service in shipped:
        assert loader.load_service_model(service, "service-2")["metadata"], service
        assert loader.load_service_model(service, "endpoint-rule-set-1"), service
    assert loader.load_service_model("dynamodb", "resources-1")["service"]  # what aws_resource loads


REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1", "cn-north-1", "us-gov-west-1")  # three partitions


def _layer_data_session(python: Path) -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", Loader(extra_search_paths=[str(python / "botocore" / "data")],
                                                     include_default_search_paths=False))  # fmt: skip
    return session


def test_the_shipped_botocore_data_is_the_stock_data_but_for_documentation(
    build: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Issue 22: layers/certpush/botocore_data.py trims what the layer's clients load at a cold start.
    What a client does with it must not change: the same models (documentation aside, members in their
    order), the same rule sets, and the same endpoint, region and signing name for every client the
    code makes, in every partition, as from the stock data of the same botocore (the venv's)."""
    result, python = build
    assert result.returncode == 0, result.stderr
    layer_botocore = (python / "botocore" / "__init__.py").read_text()
    if f"__version__ = '{botocore.__version__}'" not in layer_botocore:
        pytest.skip("the layer's botocore is not the venv's: nothing stock to compare with")
    sys.path.insert(0, str(ROOT / "layers" / "certpush"))
    try:
        from botocore_data import without_documentation
    finally:
        sys.path.remove(str(ROOT / "layers" / "certpush"))
    data = python / "botocore" / "data"
    assert not list(data.rglob("*.json.gz"))  # one file of each: botocore reads .json first
    trimmed, stock = Loader(extra_search_paths=[str(data)], include_default_search_paths=False), Loader()
    shipped = sorted(p.name for p in data.iterdir() if p.is_dir())
    for service in shipped:
        model = trimmed.load_service_model(service, "service-2")
        assert json.dumps(model) == json.dumps(without_documentation(stock.load_service_model(service, "service-2")))
        assert "documentation" not in json.dumps(model["operations"]), service
        rules = trimmed.load_service_model(service, "endpoint-rule-set-1")
        assert rules == stock.load_service_model(service, "endpoint-rule-set-1"), service
    assert (data / "endpoints.json").stat().st_size < 200_000  # was 1.2 MB: every service of every partition

    ours, theirs = _layer_data_session(python), botocore.session.get_session()
    for service in sorted(_services_the_code_names() | {"sts"}):
        for region in REGIONS:
            made = [s.create_client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
                    for s in (ours, theirs)]  # fmt: skip
            seen = [(c.meta.endpoint_url, c.meta.region_name, c._request_signer._signing_name,
                     c._request_signer._region_name) for c in made]  # fmt: skip
            assert seen[0] == seen[1], (service, region, seen)


def _assert_runtime_bytecode(python: Path) -> None:
    """Every module has CPython 3.12 bytecode that never checks its source: Lambda can't write a
    .pyc of its own under /opt, and SAM's zip changes the sources' timestamps."""
    sources = [p for p in python.rglob("*.py") if "__pycache__" not in p.parts]
    missing = [s for s in sources if not (s.parent / "__pycache__" / f"{s.stem}.cpython-312.pyc").is_file()]
    assert sources and not missing, missing[:5]
    other_versions = [p for p in python.rglob("*.pyc") if ".cpython-312." not in p.name]
    assert not other_versions, other_versions[:5]
    header = (python / "certpush" / "__pycache__" / "wiring.cpython-312.pyc").read_bytes()[:8]
    flags = int.from_bytes(header[4:8], "little")
    assert flags == 0b01, "hash-based and unchecked (PEP 552)"
    # the build directory appears in no bytecode: each names its source where Lambda mounts the layer
    build_dir = str(python).encode()
    leaking = [p for p in python.rglob("*.pyc") if build_dir in p.read_bytes()]
    assert not leaking, leaking[:5]
    wiring = (python / "certpush" / "__pycache__" / "wiring.cpython-312.pyc").read_bytes()
    assert b"/opt/python/certpush/wiring.py" in wiring


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    """Issue 18: the layer build (--require-hashes) and make venv check every file they install."""
    for lock in (ROOT / "layers" / "certpush" / "requirements.txt", ROOT / "requirements" / "dev.lock"):
        text = lock.read_text()
        entries = [e for e in text.replace("\\\n", " ").splitlines() if e and not e.startswith("#")]
        assert entries, lock
        for entry in entries:
            name, _, rest = entry.partition(" ")
            assert "==" in name and "--hash=sha256:" in rest, f"{lock.name}: {entry[:80]}"


# What each function's cold start does not load, by design, run as Lambda runs it: CPython 3.12, the
# built layer alone on the path, Lambda's environment (the Tracer on). After init (the module
# imported) and after the first invocation's building (``first_use``): the providers' packages load
# with the first push that needs them, cryptography only where certificates are parsed (on the venv
# botocore loads it through urllib3's pyOpenSSL support, which the layer does not ship).
# Powertools' batch utility, imported after pydantic, builds the parser models of every batch source
# (SQS, DynamoDB, Kinesis, Kafka: aws_lambda_powertools/utilities/batch/types.py, ~50 ms); imported
# before it (as the handlers' imports are sorted), none: kafka's model stands for them.
NOT_AT_INIT = ["certpush.providers", "certpush.logic.validation", "certpush.logic.push", "cryptography",
               "certpush.adapters.certificate_store", "pydantic_settings", "dotenv", "argparse",
               "aws_lambda_powertools.utilities.parser.models.kafka"]  # fmt: skip
NOT_LOADED = {
    "validator": ("app._validator()", [
        "httpx", "certpush.providers.huaweicloud.client", "certpush.providers.huaweicloud.waf_adapter",
        "certpush.providers.aws.elb_adapter", "certpush.logic.push", "aws_lambda_powertools.utilities.batch"]),
    # the first message is for an AWS target: no Huawei Cloud client, signer nor adapter
    "push_worker": ("app._consumer()._worker.targets.get(('aws', 'elb'))", [
        "cryptography", "certpush.logic.validation", "httpx", "certpush.providers.huaweicloud.client",
        "certpush.providers.huaweicloud.signer", "certpush.providers.huaweicloud.waf_adapter"]),
    "notifier": ("app._consumer()", [
        "cryptography", "httpx", "certpush.providers", "certpush.logic.validation",
        "certpush.adapters.certificate_store"]),
}  # fmt: skip
LOADED = """
import gc, sys
import app
init, collecting_after_init = set(sys.modules), gc.isenabled()
{first_use}
print(collecting_after_init, gc.isenabled(), gc.get_freeze_count() > 0)
print(" ".join(sorted(init)))
print(" ".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("function", list(NOT_LOADED))
def test_a_cold_start_on_the_built_layer_loads_only_what_the_function_runs(
    build: tuple[subprocess.CompletedProcess[str], Path], function: str
) -> None:
    from certpush_dev.bench.cold_start import _environment, find_python312

    result, layer = build
    assert result.returncode == 0, result.stderr
    python312 = find_python312()
    if python312 is None:
        pytest.skip("no CPython 3.12 on this machine")
    first_use, not_after_first_use = NOT_LOADED[function]
    code = ROOT / "functions" / function
    env = _environment(layer, code, function)

    run = subprocess.run([python312, "-s", "-c", LOADED.format(first_use=first_use)], cwd=code, env=env,
                         capture_output=True, text=True, check=False, timeout=120)  # fmt: skip

    assert run.returncode == 0, run.stderr
    at_init, after_first_use = (set(line.split()) for line in run.stdout.splitlines()[-2:])
    # the cyclic collector paused for init only (certpush.init_phase), what init made frozen in Lambda
    assert run.stdout.splitlines()[-3] == "True True True"
    assert "app" in at_init and "certpush.wiring" in at_init
    assert "certpush.providers.aws.elb_adapter" in after_first_use or function != "push_worker"
    assert _loaded(NOT_AT_INIT, at_init) == []
    assert _loaded(not_after_first_use, after_first_use) == []


def _loaded(names: list[str], modules: set[str]) -> list[str]:
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]
