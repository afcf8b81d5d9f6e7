"""The one-machine host under the bench: `certpush serve`'s runtime (``HostRuntime``) on a home in a
temporary directory, pushing to the Huawei Cloud simulator (in this process) at the bench's latency,
and, when a setting has AWS targets, to moto in a process of its own (``certpush_emulators.aws.
moto_process``, as ``certpush serve --simulate`` runs it: moto is not in the host's process nor its
path; a botocore hook on the host's AWS session adds the setting's latency to each ACM / ELB call).

- fan-out: one target, every target of a setting in one issuance, and the same targets one after
  another, interleaved (``machine.interleave``), from the event in the inbox to every target final
  (issue 22's goals for 30 targets at 300 ms: <= 1.3 x one target, >= 15 x faster than one after
  another);
- throughput at 0 ms: certificates x 10 WAF regions, pushes per second and CPU per push, to set
  beside the embedded stack's."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from certpush.models.domain import CertificateMaterial, TargetSpec
from certpush.providers.registry import REGISTRY
from certpush_cli.host.home import Home
from certpush_cli.host.processes import process_identity
from certpush_cli.host.runtime import HostRuntime
from certpush_cli.host.simulators import SimulatedProcess, Simulation
from certpush_cli.host.wiring import Host
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate
from certpush_dev.bench.machine import MIN_ROUNDS, interleave
from certpush_dev.bench.pipeline import HUAWEI_REGIONS, FanOutSetting, fan_out_figures
from certpush_dev.local.aws_calls import AwsCallCounter, install_on_handlers_session, uninstall_from_handlers_session
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator


class MotoProcess:
    """moto's server in a process of its own, until its standard input closes (moto_process.py);
    ``acm_rate_quotas``: ACM throttles past its per-region API rate quotas, as ACM does."""

    def __init__(self, *, acm_rate_quotas: bool = False) -> None:
        self._arguments = ["--acm-rate-quotas"] if acm_rate_quotas else []

    def __enter__(self) -> MotoProcess:
        self.process = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
            [sys.executable, "-m", "certpush_emulators.aws.moto_process", "0", *self._arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if line[:1] != ["listening"]:
            self.process.kill()
            raise RuntimeError("moto did not start")
        self.url = f"http://{line[1]}:{line[2]}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def patched_environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment meanwhile: boto3 reads them when it makes a client (as
    ``certpush serve --simulate`` sets them); what was there before comes back after."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class HostBench:
    def __init__(self, push_concurrency: int | None = None, aws_latency_ms: float | None = None) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="certpush-bench-host-")
        self.push_concurrency = push_concurrency
        self.aws_latency_ms = aws_latency_ms  # None: no AWS targets (no moto)
        self._environment = contextlib.ExitStack()

    def __enter__(self) -> HostBench:
        home = Home.open(Path(self._directory.name) / "home")
        if self.push_concurrency is not None:
            home.config_file.write_text(f"push_concurrency = {self.push_concurrency}\n")
        self.simulator = HuaweiCloudSimulator(credentials={"BENCHAK": "bench-sk"}).start()
        self.moto: MotoProcess | None = None
        self.counter: AwsCallCounter | None = None
        aws: SimulatedProcess | None = None
        if self.aws_latency_ms is not None:
            self.moto = MotoProcess().__enter__()
            aws = SimulatedProcess(self.moto.process.pid, "", self.moto.url)
            latency = self.aws_latency_ms
            self.counter = install_on_handlers_session(
                AwsCallCounter(delays_ms={"acm": latency, "elasticloadbalancing": latency, "tagging": latency})
            )
        simulation = Simulation(
            processes={
                "huaweicloud": SimulatedProcess(os.getpid(), process_identity(), self.simulator.url),
                **({"aws": aws} if aws else {}),
            },
            # the in-process simulator's own key
            credentials={"huaweicloud": {"access_key": "BENCHAK", "secret_key": "bench-sk"}},
            missing={} if aws else {"aws": "not simulated in the bench"},
        )
        self._environment.enter_context(patched_environment(simulation.environment()))
        self.host = Host.open(home, environ={}, simulation=simulation)
        self.runtime = HostRuntime(self.host).start()
        sample = make_certificate("bench.example.com")
        self.material = CertificateMaterial(certificate_pem=sample.certificate_pem, chain_pem=sample.chain_pem,
                                            private_key_pem=SecretStr(sample.private_key_pem))  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        self.runtime.stop()
        self.host.close()
        self.simulator.stop()
        if self.counter is not None:
            uninstall_from_handlers_session(self.counter)
        if self.moto is not None:
            self.moto.__exit__()
        self._environment.close()
        self._directory.cleanup()

    def certificates(self, count: int) -> list[str]:
        ids = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(count)]
        for certificate_id in ids:
            import_certificate(
                self.host.store, self.host.clock, self.material, certificate_id=certificate_id, catalog=REGISTRY
            )
        return ids

    def run(self, work: list[tuple[str, list[TargetSpec]]], timeout: float = 600) -> tuple[float, float]:
        """Seconds and CPU seconds from the events in the inbox to every issuance final."""
        cpu, started = time.process_time(), time.monotonic()
        issuances = [self.host.issuances.push(certificate_id, specs) for certificate_id, specs in work]
        deadline = started + timeout
        for issuance_id in issuances:
            while True:
                progress = self.host.records.get_issuance(issuance_id)
                if progress is not None and progress.done:
                    if set(progress.outcomes.values()) != {"SUCCEEDED"}:
                        raise RuntimeError(f"issuance {issuance_id} ended {progress.outcomes}")
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"issuance {issuance_id} not final after {timeout}s")
                time.sleep(0.005)  # polling the records, as `certpush push --wait` does
        return time.monotonic() - started, time.process_time() - cpu


def host_fan_out(
    setting: FanOutSetting, rounds: int = MIN_ROUNDS, push_concurrency: int | None = None
) -> dict[str, Any]:
    has_aws = any(spec.provider == "aws" for spec in setting.targets)
    with HostBench(push_concurrency, aws_latency_ms=setting.latency_ms if has_aws else None) as bench:
        bench.simulator.set_faults(latency_ms=setting.latency_ms)

        def one() -> float:
            (certificate_id,) = bench.certificates(1)
            return bench.run([(certificate_id, [setting.one])])[0]

        def many() -> float:
            (certificate_id,) = bench.certificates(1)
            return bench.run([(certificate_id, list(setting.targets))])[0]

        def one_after_another() -> float:
            (certificate_id,) = bench.certificates(1)
            return sum(bench.run([(certificate_id, specs)])[0] for specs in setting.singles())

        # the warm-up warms what a running host has warm (project ids, connections)
        measured = interleave({"one": one, "many": many, "one_after_another": one_after_another}, rounds)
        push_concurrency = bench.host.config.push_concurrency
    return {"push_concurrency": push_concurrency, "aws": "moto in its own process" if has_aws else None,
            **fan_out_figures(setting, measured)}  # fmt: skip


def host_throughput(certificates: int, regions: int = 10) -> dict[str, Any]:
    with HostBench() as bench:
        ids = bench.certificates(certificates)
        specs = [TargetSpec(provider="huaweicloud", service="waf", regions=HUAWEI_REGIONS[:regions])]
        seconds, cpu = bench.run([(certificate_id, specs) for certificate_id in ids])
    pushes = certificates * regions
    return {
        "certificates": certificates,
        "regions": regions,
        "pushes": pushes,
        "seconds": round(seconds, 2),
        "pushes_per_second": round(pushes / seconds, 1),
        "cpu_ms_per_push": round(cpu * 1000 / pushes, 1),  # the host and the simulator: one process
    }
