"""Fixtures for the unit tier: the domain objects built from the in-memory fakes, a hosted
certificate with valid material (made at run time, never committed) and a loader for the handlers."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import SecretStr

from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker, RetryPolicy
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateMaterial, CertificateVersion
from certpush.providers.registry import REGISTRY
from certpush_cli.function_url import LocalLambdaContext
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import SampleCertificate, make_certificate
from tests.fakes import (
    FakeQueue,
    FixedClock,
    InMemoryCertificateStore,
    InMemoryPolicyStore,
    InMemoryRecordsRepository,
    RecordingPublisher,
    ScriptedTarget,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CERTIFICATE_ID = "www-example-com"
DOMAIN = "www.example.com"
SANS = ["www.example.com", "api.example.com"]


HANDLER_ENVIRONMENT = {
    "PATH": "/usr/bin:/bin",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "RECORDS_TABLE": "records",
    "INVENTORY_TABLE": "inventory",
    "PUSH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/push",
    "EVENT_BUS_NAME": "certpush",
}
"""What a pipeline handler reads at its first build, for a handler run in a process of its own."""


def run_handler_code(code: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a new Python process with ``HANDLER_ENVIRONMENT`` (plus ``environ``) and nothing else."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**HANDLER_ENVIRONMENT, **environ},
        check=False,
    )


def material_of(sample: SampleCertificate, *, private_key_pem: str | None = None, chain_pem: str | None = None):
    return CertificateMaterial(
        certificate_pem=sample.certificate_pem,
        chain_pem=sample.chain_pem if chain_pem is None else chain_pem,
        private_key_pem=SecretStr(private_key_pem or sample.private_key_pem),
    )


@pytest.fixture(scope="session")
def sample() -> SampleCertificate:
    """A leaf valid around NOW (the fixed clock), issued by an intermediate under a root."""
    return make_certificate(DOMAIN, sans=SANS, days=90, not_before=NOW - timedelta(days=10))


@pytest.fixture(scope="session")
def renewed(sample: SampleCertificate) -> SampleCertificate:
    """The same names, issued again: a new certificate and key (what a renewal imports)."""
    return make_certificate(DOMAIN, sans=SANS, days=90, not_before=NOW - timedelta(days=1))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store() -> InMemoryCertificateStore:
    return InMemoryCertificateStore()


@pytest.fixture
def policies() -> InMemoryPolicyStore:
    return InMemoryPolicyStore()


@pytest.fixture
def records() -> InMemoryRecordsRepository:
    return InMemoryRecordsRepository()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def store_certificate(store: InMemoryCertificateStore, clock: FixedClock) -> Callable[..., CertificateVersion]:
    """Stores material as a new version (``force``: even when it is broken, to see it rejected later)."""

    def put(material: CertificateMaterial, certificate_id: str = CERTIFICATE_ID) -> CertificateVersion:
        return import_certificate(
            store, clock, material, certificate_id=certificate_id, force=True, catalog=REGISTRY
        ).version

    return put


@pytest.fixture
def hosted_certificate(
    sample: SampleCertificate, store_certificate: Callable[..., CertificateVersion]
) -> CertificateVersion:
    return store_certificate(material_of(sample))


@pytest.fixture
def validator(
    store: InMemoryCertificateStore,
    policies: InMemoryPolicyStore,
    records: InMemoryRecordsRepository,
    queue: FakeQueue,
    clock: FixedClock,
) -> Validator:
    return Validator(store=store, policies=policies, records=records, queue=queue, clock=clock, catalog=REGISTRY)


@pytest.fixture
def aws_elb() -> ScriptedTarget:
    return ScriptedTarget("aws", "elb")


@pytest.fixture
def huawei_waf() -> ScriptedTarget:
    return ScriptedTarget("huaweicloud", "waf")


class SteppingMonotonic:
    """A monotonic clock that moves 250 ms per reading: a push takes a known duration."""

    def __init__(self, step: float = 0.25) -> None:
        self._ticks = itertools.count()
        self.step = step

    def __call__(self) -> float:
        return next(self._ticks) * self.step


@pytest.fixture
def retry_policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=3, base_seconds=10, max_seconds=900, jitter=lambda: 0.5)


@pytest.fixture
def worker(
    store: InMemoryCertificateStore,
    records: InMemoryRecordsRepository,
    clock: FixedClock,
    aws_elb: ScriptedTarget,
    huawei_waf: ScriptedTarget,
    retry_policy: RetryPolicy,
) -> PushWorker:
    return PushWorker(
        store=store,
        records=records,
        targets={("aws", "elb"): aws_elb, ("huaweicloud", "waf"): huawei_waf},
        clock=clock,
        retry=retry_policy,
        monotonic=SteppingMonotonic(),
    )


@pytest.fixture
def notifier(records: InMemoryRecordsRepository, publisher: RecordingPublisher) -> Notifier:
    return Notifier(records=records, publisher=publisher)


# -- handlers ---------------------------------------------------------------------------------------
_loads = itertools.count()


@pytest.fixture
def load_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Imports ``functions/{name}/app.py`` by file path under a module name of its own (each Lambda
    has its own ``app`` module), with the Powertools environment the template gives the functions."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "certpush")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "certpush")
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        path = ROOT / "functions" / name / "app.py"
        unique = f"certpush_unit_{name}_app_{next(_loads)}"
        spec = importlib.util.spec_from_file_location(unique, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        loaded.append(unique)
        spec.loader.exec_module(module)
        return module

    yield load
    for unique in loaded:
        sys.modules.pop(unique, None)


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="certpush-unit", timeout_seconds=60)  # the template's Timeout
