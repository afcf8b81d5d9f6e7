"""The mass renewal (issue 22): many certificates pushed to many Huawei Cloud regions and services (and,
with ``aws_regions``, to AWS ELB's ACM in as many regions), then all renewed at once, on the one-machine host
(SQLite) against the Huawei Cloud simulator enforcing flow control and moto enforcing ACM's per-region API
rate quotas, each in a process of its own as ``certpush serve --simulate`` runs them (in the host's process
the cloud took half of the host's one interpreter: the cloud runs elsewhere). It reports the pushes FAILED
for throttling (the goal: none) and the renewal's time against the least time the quotas allow (the goal:
at most 1.5 x), with the CPU the host used and the machine's load beside it.

The simulator counts the Huawei Cloud requests it served; ACM's are counted by the host's limiter, which
every HTTP attempt to ACM passes (``WindowRateLimiter.sent``), and the throttles ACM still answered by its
``held_off``.

``run_mass_renewal`` is shared by ``make bench`` (``bench_mass_renewal``: 100 certificates x 10 regions x
2 services = 2,000 pushes; ``BENCH_QUICK=1``: 10 x 3 x 2) and by the test in ``make test``
(tests/integration/test_mass_renewal.py, 60 pushes under tight limits)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from certpush.adapters.rate_limiter import WindowRateLimiter
from certpush.models.domain import CertificateMaterial, PushPolicy, PushStatus, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.providers.aws.elb import REGIONS as AWS_REGIONS
from certpush.providers.huaweicloud.client import THROTTLING_CODES
from certpush.providers.huaweicloud.regions import ELB, WAF, offered_regions
from certpush.providers.registry import REGISTRY
from certpush_cli.host.home import Home
from certpush_cli.host.runtime import HostRuntime
from certpush_cli.host.simulators import SimulatedProcess, Simulation
from certpush_cli.host.wiring import Host
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate
from certpush_dev.bench.host import MotoProcess, patched_environment
from certpush_emulators.huaweicloud.server import DECLARED_FLOW_LIMITS, DEFAULT_CREDENTIALS

# what a push FAILED for throttling says: Huawei Cloud's flow-control codes, a 429, AWS's throttling codes
THROTTLE_REASONS = frozenset({*THROTTLING_CODES, "HTTP_429", "ThrottlingException", "Throttling"})


@dataclass
class PhaseResult:
    pushes: int
    seconds: float
    statuses: Counter[str]
    failed_for_throttling: int
    calls: dict[str, int]
    """API requests the simulator answered in this phase, per ``service@region``."""
    allowed_seconds: float
    """The least time the limits allow for those calls (each budget's calls past its first window's)."""
    cpu_seconds: float = 0.0
    """CPU this process used meanwhile (host, simulator and the pushes' threads are all in it)."""
    load_average: float = 0.0
    """The machine's 1-minute load average at the end (2 cores: above 2, the figures wait for CPU)."""

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.allowed_seconds if self.allowed_seconds >= 1 else None


@dataclass
class MassRenewalResult:
    limits: Mapping[str, tuple[int, float]]
    first: PhaseResult
    renewal: PhaseResult
    throttled_by_simulator: int
    busiest_window: dict[str, int]
    over_limit: dict[str, int] = field(default_factory=dict)
    """Budgets whose busiest window held more calls than their limit (must stay empty)."""
    paced_seconds: float = 0.0
    """What the host's rate limiter made calls wait, in all (threads waiting at once each count)."""
    throttled_by_acm: int = 0
    """ACM requests moto refused for its rate quotas (each waited out, then sent again)."""


def common_regions(count: int) -> list[str]:
    return sorted(offered_regions(WAF) & offered_regions(ELB))[:count]


def _material(certificate_id: str) -> CertificateMaterial:
    made = make_certificate(f"{certificate_id}.example.com")
    return CertificateMaterial(
        certificate_pem=made.certificate_pem, chain_pem=made.chain_pem, private_key_pem=SecretStr(made.private_key_pem)
    )


def _allowed_seconds(calls: Mapping[str, int], limits: Mapping[str, tuple[int, float]]) -> float:
    """``calls`` per ``budget@region``, ``limits`` per budget: the least time in which the busiest budget could
    have taken its calls (its first window's go at once)."""
    allowed = 0.0
    for budget, count in calls.items():
        limit = limits.get(budget.split("@", 1)[0])
        if limit is not None and count > 0:
            per_window, window = limit
            allowed = max(allowed, (math.ceil(count / per_window) - 1) * window)
    return allowed


class _Simulator:
    """The Huawei Cloud simulator in a process of its own, driven through its admin API (``/_sim/*``)."""

    def __init__(self) -> None:
        [(self.access_key, self.secret_key)] = DEFAULT_CREDENTIALS.items()
        self._process = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
            [sys.executable, "-m", "certpush_emulators.huaweicloud",
             "--access-key", self.access_key, "--secret-key", self.secret_key],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self._process.stdout is not None
        word, self.url = self._process.stdout.readline().split()
        assert word == "listening", word
        self._http = httpx.Client(base_url=self.url, timeout=30)

    def admin(self, path: str, payload: object) -> None:
        self._http.post(path, json=payload).raise_for_status()

    def state(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._http.get("/_sim/state").json()
        return answer

    def calls(self) -> Counter[str]:
        """API requests the simulator's services took (past flow control), per ``service@region``."""
        stats = self.state()["stats"]
        return Counter({name.removeprefix("calls."): n for name, n in stats.items() if name.startswith("calls.")})

    def stop(self) -> None:
        self._http.close()
        self._process.terminate()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()


def _aws_calls(limiter: WindowRateLimiter) -> Counter[str]:
    """ACM requests the host sent, per ``operation group@region`` (every HTTP attempt passes the limiter)."""
    return Counter({str(key): n for key, n in limiter.sent.items() if key.group.startswith("aws:")})


def _aws_limits(limiter: WindowRateLimiter) -> dict[str, tuple[int, float]]:
    quotas = limiter.quotas
    return {group: (q.calls, q.per_seconds) for group, q in quotas if q is not None and group.startswith("aws:")}


def _phase(
    host: Host,
    simulator: _Simulator,
    certificate_ids: Sequence[str],
    version: int,
    targets: int,
    limits: Mapping[str, tuple[int, float]],
    timeout: float,
) -> PhaseResult:
    before = simulator.calls() + _aws_calls(host.rate_limiter)
    materials = {cid: _material(cid) for cid in certificate_ids}  # made before the clock starts
    cpu_started = time.process_time()
    started = time.monotonic()
    for cid in certificate_ids:
        with host.database.transaction():
            import_certificate(host.store, host.clock, materials[cid], cid, catalog=REGISTRY)
            host.inbox.certificate_issued(CertificateIssuedDetail(certificate_id=cid))
    expected = len(certificate_ids) * targets
    deadline = started + timeout
    while True:
        records = [r for cid in certificate_ids for r in host.records.list_current(cid) if r.version == version]
        finals = [r for r in records if r.status.is_final]
        if len(finals) == expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    cpu_seconds = time.process_time() - cpu_started
    calls = simulator.calls() + _aws_calls(host.rate_limiter) - before
    return PhaseResult(
        pushes=expected,
        seconds=seconds,
        statuses=Counter(r.status.value for r in records) + Counter({"NOT_FINAL": expected - len(finals)}),
        failed_for_throttling=sum(
            1 for r in finals if r.status is PushStatus.FAILED and (r.reason or "") in THROTTLE_REASONS
        ),
        calls=dict(calls),
        allowed_seconds=_allowed_seconds(calls, {**limits, **_aws_limits(host.rate_limiter)}),
        cpu_seconds=cpu_seconds,
        load_average=os.getloadavg()[0],
    )


def run_mass_renewal(
    certificates: int,
    regions: Sequence[str],
    services: Sequence[str] = (WAF, ELB),
    limits: Mapping[str, tuple[int, float]] = DECLARED_FLOW_LIMITS,
    *,
    latency_ms: int = 0,
    push_concurrency: int = 20,
    timeout: float = 600,
    home: Path | None = None,
    aws_regions: Sequence[str] = (),
) -> MassRenewalResult:
    """Imports ``certificates`` certificates pushed by a policy to ``services`` x ``regions`` (version 1),
    and to AWS ELB (its ACM import, no listener) in ``aws_regions``, then imports a new version of each (the
    renewal), on a host under the same ``limits`` the simulator enforces (the host's ``rate_limits`` are set
    to them; ACM's are the declared quotas, which moto enforces too)."""
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="certpush-mass-"))
        aws = stack.enter_context(_aws(bool(aws_regions)))
        simulator = _Simulator()
        try:
            simulator.admin("/_sim/settings", {"flow_limits": {s: list(limit) for s, limit in limits.items()}})
            if latency_ms:
                simulator.admin("/_sim/faults", {"latency_ms": latency_ms})
            simulation = Simulation(
                processes={
                    "huaweicloud": SimulatedProcess(pid=os.getpid(), identity="bench", url=simulator.url),
                    **({"aws": aws} if aws else {}),
                },
                credentials={"huaweicloud": {"access_key": simulator.access_key, "secret_key": simulator.secret_key}},
                missing={} if aws else {"aws": "AWS is not part of this mass renewal"},
            )
            environ = {
                "CERTPUSH_PUSH_CONCURRENCY": str(push_concurrency),
                "CERTPUSH_POLL_SECONDS": "0.05",
                "CERTPUSH_RATE_LIMITS": json.dumps(
                    {f"huaweicloud:{service}": f"{calls}/{window:g}s" for service, (calls, window) in limits.items()}
                ),
            }
            stack.enter_context(patched_environment(simulation.environment()))
            opened = Host.open(Home.open(home or Path(scratch) / "home"), environ=environ, simulation=simulation)
            opened.policies.put_policy(
                PushPolicy(
                    name="mass",
                    pattern="*",
                    targets=[TargetSpec(provider="huaweicloud", service=s, regions=list(regions)) for s in services]
                    + ([TargetSpec(provider="aws", service="elb", regions=list(aws_regions))] if aws_regions else []),
                )
            )
            runtime = HostRuntime(opened).start()
            try:
                ids = [f"mass-{n:04d}" for n in range(certificates)]
                targets = len(regions) * len(services) + len(aws_regions)
                first = _phase(opened, simulator, ids, 1, targets, limits, timeout)
                renewal = _phase(opened, simulator, ids, 2, targets, limits, timeout)
            finally:
                runtime.stop()
                paced = sum(opened.rate_limiter.waited.values())
                held_off = opened.rate_limiter.held_off
                throttled_by_acm = sum(n for key, n in held_off.items() if key.group.startswith("aws:"))
                opened.close()
            state = simulator.state()
            busiest: dict[str, int] = state["flow_control"]["busiest_window"]
            over = {
                budget: count
                for budget, count in busiest.items()
                if count > limits.get(budget.split("@", 1)[0], (count, 0.0))[0]
            }
            return MassRenewalResult(
                limits=dict(limits),
                first=first,
                renewal=renewal,
                throttled_by_simulator=int(state["stats"].get("flow_control.throttled", 0)),
                busiest_window=busiest,
                over_limit=over,
                paced_seconds=paced,
                throttled_by_acm=throttled_by_acm,
            )
        finally:
            simulator.stop()


@contextlib.contextmanager
def _aws(wanted: bool) -> Iterator[SimulatedProcess | None]:
    """moto in a process of its own, enforcing ACM's rate quotas (nothing when AWS is not wanted)."""
    if not wanted:
        yield None
        return
    with MotoProcess(acm_rate_quotas=True) as moto:
        yield SimulatedProcess(pid=moto.process.pid, identity="bench", url=moto.url)


def bench_mass_renewal(quick: bool) -> dict[str, object]:
    """``make bench``'s case: 2,000 pushes (``BENCH_QUICK=1``: 90), 100 certificates each to Huawei Cloud WAF and
    ELB in 5 regions and to AWS ELB (ACM) in 10, with the declared limits enforced by both emulators."""
    certificates, huawei_regions, aws_regions = (10, 3, 3) if quick else (100, 5, 10)
    concurrency = int(os.environ.get("BENCH_MASS_CONCURRENCY", "40"))
    result = run_mass_renewal(
        certificates,
        common_regions(huawei_regions),
        latency_ms=20,
        push_concurrency=concurrency,
        aws_regions=sorted(AWS_REGIONS)[:aws_regions],
    )
    renewal = result.renewal
    ratio = renewal.ratio
    acm = {budget: n for budget, n in renewal.calls.items() if budget.startswith("aws:")}
    return {
        "case": "mass renewal (one-machine host; Huawei simulator enforcing flow control, moto enforcing ACM's quotas)",
        "pushes": renewal.pushes,
        "limits": {s: f"{c}/{w:g}s" for s, (c, w) in result.limits.items()} | {"aws:acm": "declared (quotas.py)"},
        "first_push_seconds": round(result.first.seconds, 1),
        "renewal_seconds": round(renewal.seconds, 1),
        "renewal_cpu_seconds": round(renewal.cpu_seconds, 1),
        "load_average_1min": round(renewal.load_average, 2),
        "push_concurrency": concurrency,
        "calls_per_push": round(sum(renewal.calls.values()) / renewal.pushes, 2),
        "renewal_acm_calls": sum(acm.values()),
        "quota_allowed_seconds": round(renewal.allowed_seconds, 1),
        "time_ratio": round(ratio, 2) if ratio is not None else "n/a (the quotas allow it at once)",
        "goal_ratio": 1.5,
        "failed_for_throttling": result.first.failed_for_throttling + renewal.failed_for_throttling,
        "statuses": dict(renewal.statuses),
        "throttled_by_simulator": result.throttled_by_simulator,
        "throttled_by_acm": result.throttled_by_acm,
        "paced_seconds": round(result.paced_seconds, 1),
        "over_limit": result.over_limit,
    }


def main() -> int:
    """``python -m certpush_dev.bench.mass_renewal``: this case alone, recorded in
    bench/results/mass-renewal-<time>.json with the machine's load beside it."""
    from datetime import UTC, datetime

    from certpush_dev.bench.__main__ import RESULTS, ROOT
    from certpush_dev.bench.machine import Watch

    with Watch() as watch:
        found: dict[str, object] = dict(bench_mass_renewal(os.environ.get("BENCH_QUICK") == "1"))
    found["conditions"] = watch.conditions.to_dict() if watch.conditions else None
    date = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"mass-renewal-{date.replace(':', '').replace('-', '')}.json"
    path.write_text(json.dumps({"date": date, **found}, indent=2) + "\n")
    print(json.dumps(found, indent=2))
    print(f"recorded in {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
