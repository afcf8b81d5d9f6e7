"""Fan-out, throughput and scaling on the embedded stack: from "Certificate Issued" on the bus to
every record final, with the handlers' AWS calls counted by botocore hooks (``AwsCallCounter``)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.adapters.eventbridge_sns import EventBridgePublisher
from certpush.models.domain import CertificateMaterial, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.providers.registry import REGISTRY
from certpush.wiring import SystemClock, certificate_store
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate
from certpush_cli.stack import settings_for_stack
from certpush_dev.bench.machine import MIN_ROUNDS, Interleaved, interleave
from certpush_dev.local.aws_calls import AwsCallCounter, install_on_handlers_session, uninstall_from_handlers_session
from certpush_dev.local.stack import EmbeddedStack

HUAWEI_REGIONS = ["cn-north-4", "cn-north-1", "cn-east-3", "cn-east-2", "cn-south-1", "ap-southeast-1",
                  "ap-southeast-2", "ap-southeast-3", "af-south-1", "la-south-2"]  # fmt: skip
AWS_REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "eu-north-1",
               "ap-northeast-1", "ap-southeast-2", "sa-east-1"]  # fmt: skip


@dataclass
class Run:
    pushes: int
    seconds: float
    cpu_seconds: float
    emulator_cpu_seconds: float
    calls: Counter[str]
    billed_seconds: dict[str, float] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)

    @property
    def control_plane(self) -> dict[str, int]:
        return AwsCallCounter.control_plane(self.calls)

    def summary(self) -> dict[str, Any]:
        per_push = {op: round(n / self.pushes, 3) for op, n in self.control_plane.items()}
        return {
            "pushes": self.pushes,
            "seconds": round(self.seconds, 2),
            "pushes_per_second": round(self.pushes / self.seconds, 1),
            # this process (handlers, pollers, the Huawei Cloud simulator) + moto's process
            "cpu_ms_per_push": round((self.cpu_seconds + self.emulator_cpu_seconds) * 1000 / self.pushes, 1),
            "handlers_cpu_ms_per_push": round(self.cpu_seconds * 1000 / self.pushes, 1),
            "aws_emulator_cpu_ms_per_push": round(self.emulator_cpu_seconds * 1000 / self.pushes, 1),
            "control_plane_calls_per_push": round(sum(self.control_plane.values()) / self.pushes, 2),
            "control_plane_calls_per_push_by_operation": per_push,
            "function_seconds_per_push": {k: round(v / self.pushes, 4) for k, v in self.billed_seconds.items()},
            "invocations_per_push": {k: round(v / self.pushes, 3) for k, v in self.invocations.items()},
        }


class Bench:
    """One embedded stack for every scenario; AWS calls slowed down as the cloud would be."""

    def __init__(
        self, root: Path, aws_target_ms: float, aws_other_ms: float, parameters: dict[str, str] | None = None
    ) -> None:
        self.aws_other_ms = aws_other_ms
        self.counter = install_on_handlers_session(
            AwsCallCounter(
                delays_ms={"acm": aws_target_ms, "elasticloadbalancing": aws_target_ms}, default_delay_ms=aws_other_ms
            )
        )
        self.stack = EmbeddedStack(
            root=root,
            parameters={
                "RetryBaseSeconds": "0",
                "PushMaxAttempts": "20",
                "PushMaxReceives": "30",
                "LogLevel": "WARNING",
                **(parameters or {}),
            },
        )

    def __enter__(self) -> Bench:
        self.stack.start()
        settings = settings_for_stack(self.stack.stack_name)
        self.records = DynamoDBRecordsRepository(settings.records_table)
        self.publisher = EventBridgePublisher(settings.event_bus_name)
        self.store = certificate_store(settings)
        sample = make_certificate("bench.example.com")
        self.material = CertificateMaterial(certificate_pem=sample.certificate_pem, chain_pem=sample.chain_pem,
                                            private_key_pem=SecretStr(sample.private_key_pem))  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.stop()
        uninstall_from_handlers_session(self.counter)

    def latency(self, huawei_ms: int) -> None:
        self.stack.emulators["huaweicloud"].set_faults(latency_ms=huawei_ms)

    def certificates(self, count: int) -> list[str]:
        ids = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(count)]
        for certificate_id in ids:
            import_certificate(
                self.store, SystemClock(), self.material, certificate_id=certificate_id, catalog=REGISTRY
            )
        return ids

    def _issue(self, certificate_id: str, targets: list[TargetSpec]) -> str:
        issuance = str(uuid.uuid4())
        detail = CertificateIssuedDetail(certificate_id=certificate_id, issuance_id=issuance, targets=targets)
        self.publisher.certificate_issued(detail)
        return issuance

    def _wait(self, issuances: list[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        pending = list(issuances)
        while pending:
            progress = self.records.get_issuance(pending[0])
            if progress is not None and progress.done:
                if set(progress.outcomes.values()) != {"SUCCEEDED"}:
                    raise RuntimeError(f"issuance {pending[0]} ended {progress.outcomes}")
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} issuances not final after {timeout}s")
            time.sleep(0.02)  # polling the records table, as `certpush push --wait` does

    def _quiet(self, expected_events: int, timeout: float = 60) -> None:
        """Until the notifier has emitted every event of the run (they follow the final records)."""
        deadline = time.monotonic() + timeout
        while self.counter.events_put < expected_events and time.monotonic() < deadline:
            time.sleep(0.02)

    def run(self, work: list[tuple[str, list[TargetSpec]]], sequential: bool = False) -> Run:
        pushes = sum(len(spec.regions) for _, specs in work for spec in specs)
        self.counter.reset()
        billed = {k: i.billed_seconds for k, i in self.stack.invokers.items()}
        invocations = {k: i.invocations for k, i in self.stack.invokers.items()}
        cpu, emulator, started = time.process_time(), self.stack.emulator_cpu_seconds(), time.monotonic()
        if sequential:
            for certificate_id, specs in work:
                self._wait([self._issue(certificate_id, specs)])
        else:
            self._wait([self._issue(certificate_id, specs) for certificate_id, specs in work])
        seconds = time.monotonic() - started
        self._quiet(pushes + len(work))
        return Run(
            pushes=pushes,
            seconds=seconds,
            cpu_seconds=time.process_time() - cpu,
            emulator_cpu_seconds=self.stack.emulator_cpu_seconds() - emulator,
            calls=self.counter.snapshot(),
            billed_seconds={k: i.billed_seconds - billed[k] for k, i in self.stack.invokers.items()},
            invocations={k: i.invocations - invocations[k] for k, i in self.stack.invokers.items()},
        )


def twenty_targets() -> list[TargetSpec]:
    return [TargetSpec(provider="huaweicloud", service="waf", regions=HUAWEI_REGIONS),
            TargetSpec(provider="huaweicloud", service="elb", regions=HUAWEI_REGIONS)]  # fmt: skip


@dataclass(frozen=True)
class FanOutSetting:
    """One issuance of ``targets`` at ``latency_ms`` per target API request, against one target and
    the same targets one after another."""

    name: str
    latency_ms: int
    targets: tuple[TargetSpec, ...]
    one: TargetSpec = field(
        default_factory=lambda: TargetSpec(provider="huaweicloud", service="waf", regions=["cn-north-4"])
    )

    @property
    def count(self) -> int:
        return sum(len(spec.regions) for spec in self.targets)

    def singles(self) -> list[list[TargetSpec]]:
        return [[TargetSpec(provider=s.provider, service=s.service, regions=[r])] for s in self.targets
                for r in s.regions]  # fmt: skip


# the project's own setting since issue 11, and the setting of the independent harness of issue 22
# (10 Huawei WAF + 10 Huawei ELB + 10 AWS ELB regions, 300 ms a request)
OWN = FanOutSetting("20 Huawei targets at 150 ms", 150, tuple(twenty_targets()))
WIDE = FanOutSetting(
    "30 targets (10 WAF + 10 Huawei ELB + 10 AWS ELB) at 300 ms",
    300,
    (*twenty_targets(), TargetSpec(provider="aws", service="elb", regions=AWS_REGIONS)),
)


def fan_out_figures(setting: FanOutSetting, measured: Interleaved) -> dict[str, Any]:
    one_s, many_s = measured.median("one"), measured.median("many")
    sequential_s = measured.median("one_after_another")
    return {
        "setting": setting.name,
        "targets": setting.count,
        "latency_ms": setting.latency_ms,
        "one_target_s": round(one_s, 2),
        "many_targets_s": round(many_s, 2),
        "one_after_another_s": round(sequential_s, 2),
        "many_vs_one": round(many_s / one_s, 2),
        "speedup_vs_one_after_another": round(sequential_s / many_s, 1),
        **measured.to_dict(),
    }


def fan_out(bench: Bench, setting: FanOutSetting, rounds: int = MIN_ROUNDS) -> dict[str, Any]:
    """One target, every target of the setting in one issuance, the same one after another: one
    unmeasured run of each first (it warms what a warm Lambda container has: moto's backends, each
    region's project id and client connection), then ``rounds`` interleaved rounds; medians. Cold
    starts are measured on their own."""
    bench.latency(setting.latency_ms)
    bench.counter.slow_down(
        {"acm": setting.latency_ms, "elasticloadbalancing": setting.latency_ms, "tagging": setting.latency_ms},
        bench.aws_other_ms,
    )
    last: list[Run] = []

    def one() -> float:
        (certificate_id,) = bench.certificates(1)
        return bench.run([(certificate_id, [setting.one])]).seconds

    def many() -> float:
        (certificate_id,) = bench.certificates(1)
        last[:] = [bench.run([(certificate_id, list(setting.targets))])]
        return last[0].seconds

    def one_after_another() -> float:
        (certificate_id,) = bench.certificates(1)
        return bench.run([(certificate_id, specs) for specs in setting.singles()], sequential=True).seconds

    measured = interleave({"one": one, "many": many, "one_after_another": one_after_another}, rounds)
    return {**fan_out_figures(setting, measured), "calls": last[0].summary()}


def concurrency_sweep(
    root: Path, values: tuple[int, ...], latency_ms: int, other_ms: int, rounds: int = 3
) -> list[dict[str, Any]]:
    """The 20-target issuance at each PushConcurrency (a stack each): the median time over ``rounds``
    after one unmeasured issuance."""
    found = []
    for value in values:
        with Bench(
            root, aws_target_ms=latency_ms, aws_other_ms=other_ms, parameters={"PushConcurrency": str(value)}
        ) as b:
            b.latency(latency_ms)
            (warm,) = b.certificates(1)
            b.run([(warm, twenty_targets())])
            seconds = [b.run([(c, twenty_targets())]).seconds for c in b.certificates(rounds)]
        found.append({"push_concurrency": value, "twenty_targets_s": round(statistics.median(seconds), 2)})
    return found


def throughput(bench: Bench, certificates: int, regions: int) -> Run:
    ids = bench.certificates(certificates)
    specs = [TargetSpec(provider="huaweicloud", service="waf", regions=HUAWEI_REGIONS[:regions])]
    return bench.run([(certificate_id, specs) for certificate_id in ids])


PIPELINE = ("ValidatorFunction", "PushWorkerFunction", "NotifierFunction")


def peak_memory(bench: Bench, python: str, layer: Path, regions: int = 10) -> dict[str, float]:
    """Peak MB of each pipeline function over one issuance of ``regions`` WAF regions, every
    invocation in a process of its own (see memory.py)."""
    from certpush_dev.bench.memory import SubprocessRunner

    runners = {}
    for name in PIPELINE:
        invoker = bench.stack.invokers[name]
        runners[name] = invoker.runner = SubprocessRunner(invoker.spec, python, layer)
    try:
        (certificate_id,) = bench.certificates(1)
        specs = [TargetSpec(provider="huaweicloud", service="waf", regions=HUAWEI_REGIONS[:regions])]
        bench.run([(certificate_id, specs)])
    finally:
        for name in PIPELINE:
            bench.stack.invokers[name].runner = None
    return {name: round(max(runner.peaks_mb), 1) for name, runner in runners.items() if runner.peaks_mb}
