"""The one-machine host under the bench: `certpush serve`'s runtime (``HostRuntime``) on a home in a
temporary directory, pushing to the Huawei Cloud simulator (in this process) at the bench's latency.

- fan-out: one target, then 20 targets (WAF and ELB in 10 regions) in one issuance, from the event
  in the inbox to every target final (the goal: 20 in at most 1.5 x the time of one);
- throughput at 0 ms: certificates x 10 WAF regions, pushes per second and CPU per push, to set
  beside the embedded stack's."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from certpush.logic.certificate_import import import_certificate
from certpush.models.domain import CertificateMaterial, TargetSpec
from certpush.providers.registry import REGISTRY
from certpush_cli.host.home import Home
from certpush_cli.host.processes import process_identity
from certpush_cli.host.runtime import HostRuntime
from certpush_cli.host.simulators import SimulatedProcess, Simulation
from certpush_cli.host.wiring import Host
from certpush_cli.sample_certificates import make_certificate
from certpush_dev.bench.pipeline import HUAWEI_REGIONS, twenty_targets
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator


class HostBench:
    def __init__(self, push_concurrency: int | None = None) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="certpush-bench-host-")
        self.push_concurrency = push_concurrency

    def __enter__(self) -> HostBench:
        home = Home.open(Path(self._directory.name) / "home")
        if self.push_concurrency is not None:
            home.config_file.write_text(f"push_concurrency = {self.push_concurrency}\n")
        self.simulator = HuaweiCloudSimulator(credentials={"BENCHAK": "bench-sk"}).start()
        simulation = Simulation(
            huaweicloud=SimulatedProcess(os.getpid(), process_identity(), self.simulator.url),
            huaweicloud_access_key="BENCHAK",
            huaweicloud_secret_key="bench-sk",  # noqa: S106 - the in-process simulator's own key
            aws=None,
            aws_missing="not simulated in the bench",
        )
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


def host_fan_out(latency_ms: int, rounds: int = 5) -> dict[str, Any]:
    with HostBench() as bench:
        bench.simulator.set_faults(latency_ms=latency_ms)
        (warm,) = bench.certificates(1)
        bench.run([(warm, twenty_targets())])  # warms what a running host has warm (project ids, connections)
        one, twenty = [], []
        for _ in range(rounds):
            a, b = bench.certificates(2)
            one.append(bench.run([(a, [TargetSpec(provider="huaweicloud", service="waf", regions=["cn-north-4"])])])[0])
            twenty.append(bench.run([(b, twenty_targets())])[0])
        push_concurrency = bench.host.config.push_concurrency
    one_s, twenty_s = statistics.median(one), statistics.median(twenty)
    return {
        "push_concurrency": push_concurrency,
        "one_target_s": round(one_s, 2),
        "twenty_targets_s": round(twenty_s, 2),
        "twenty_vs_one": round(twenty_s / one_s, 2),
    }


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
