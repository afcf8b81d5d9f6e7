"""What the machine was doing while a figure was measured, and the measuring discipline that makes a
figure hold on a busy machine (issue 22, item 6):

- ``Watch``: the 1-minute load average (``/proc/loadavg``, sampled every second: the highest is kept)
  and the CPU steal (``/proc/stat``'s ``steal`` column, as a share of all CPU time between the start
  and the end of the measurement; proc(5)) beside each figure;
- ``interleave``: the compared cases run A, B, A, B... after one unmeasured warm-up of each, so that
  a busy spell slows every case alike; the figure is each case's median over the rounds;
- ``verdict``: "met" / "missed" only when the machine was no busier than it has cores and steal stayed
  low; "inconclusive" otherwise (a goal judged on a loaded machine says nothing about certpush).

Without ``/proc`` (not Linux) the conditions are unknown and the verdict says so."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STEAL_LIMIT_PCT = 10.0  # beyond this share of CPU time taken by the hypervisor, a figure is not judged
SAMPLE_EVERY_SECONDS = 1.0
MIN_ROUNDS = 5


def read_load_1m(path: Path = Path("/proc/loadavg")) -> float | None:
    try:
        return float(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_cpu_times(path: Path = Path("/proc/stat")) -> tuple[int, int] | None:
    """(all CPU time, steal) in clock ticks, from the aggregate ``cpu`` line. Guest time is already
    counted in user and nice (proc(5)), so the total is the first eight columns."""
    try:
        first = path.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if first[:1] != ["cpu"] or len(first) < 9:
        return None
    ticks = [int(x) for x in first[1:9]]
    return sum(ticks), ticks[7]


@dataclass(frozen=True)
class Conditions:
    cpu_count: int
    load_1m_max: float | None
    load_1m_start: float | None
    steal_pct: float | None
    seconds: float = 0.0

    @property
    def known(self) -> bool:
        return self.load_1m_max is not None and self.steal_pct is not None

    @property
    def busy(self) -> bool:
        """Busier than the machine has cores, or the hypervisor took much of the CPU."""
        load_over = self.load_1m_max is not None and self.load_1m_max > self.cpu_count
        steal_over = self.steal_pct is not None and self.steal_pct > STEAL_LIMIT_PCT
        return load_over or steal_over

    def describe(self) -> str:
        load = "?" if self.load_1m_max is None else f"{self.load_1m_max:.2f}"
        steal = "?" if self.steal_pct is None else f"{self.steal_pct:.1f} %"
        return f"load {load} / {self.cpu_count} cores, steal {steal}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "busy": self.busy}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Conditions:
        return cls(
            cpu_count=int(data["cpu_count"]),
            load_1m_max=data.get("load_1m_max"),
            load_1m_start=data.get("load_1m_start"),
            steal_pct=data.get("steal_pct"),
            seconds=float(data.get("seconds", 0.0)),
        )

    @staticmethod
    def worst(many: list[Conditions]) -> Conditions:
        """The busiest of several measurements (the highest load, the highest steal)."""
        loads = [c.load_1m_max for c in many if c.load_1m_max is not None]
        steals = [c.steal_pct for c in many if c.steal_pct is not None]
        return Conditions(
            cpu_count=many[0].cpu_count,
            load_1m_max=max(loads) if loads else None,
            load_1m_start=many[0].load_1m_start,
            steal_pct=max(steals) if steals else None,
            seconds=sum(c.seconds for c in many),
        )


class Watch:
    """``with Watch() as watch: ...`` then ``watch.conditions``: the load and steal over the block."""

    def __init__(
        self,
        read_load: Callable[[], float | None] = read_load_1m,
        read_cpu: Callable[[], tuple[int, int] | None] = read_cpu_times,
        every: float = SAMPLE_EVERY_SECONDS,
    ) -> None:
        self._read_load, self._read_cpu, self._every = read_load, read_cpu, every
        self._loads: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.conditions: Conditions | None = None

    def _sample(self) -> None:
        load = self._read_load()
        if load is not None:
            self._loads.append(load)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    def __enter__(self) -> Watch:
        self._started = time.monotonic()
        self._cpu = self._read_cpu()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="bench-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        end = self._read_cpu()
        steal = None
        if self._cpu is not None and end is not None and end[0] > self._cpu[0]:
            steal = round(100.0 * (end[1] - self._cpu[1]) / (end[0] - self._cpu[0]), 1)
        self.conditions = Conditions(
            cpu_count=os.cpu_count() or 1,
            load_1m_max=max(self._loads) if self._loads else None,
            load_1m_start=self._loads[0] if self._loads else None,
            steal_pct=steal,
            seconds=round(time.monotonic() - self._started, 1),
        )


def verdict(ok: bool, conditions: Conditions | Mapping[str, Any] | None) -> str:
    """ "met" / "missed", or "inconclusive" (with the way it leaned) when the machine was too busy
    to judge, or when nothing is known of it."""
    if isinstance(conditions, Mapping):
        conditions = Conditions.from_dict(conditions)
    leaned = "met" if ok else "missed"
    if conditions is None or not conditions.known:
        return f"inconclusive (load unknown; {leaned} as measured)"
    if conditions.busy:
        return f"inconclusive ({conditions.describe()}; {leaned} as measured)"
    return "met" if ok else "**missed**"


@dataclass
class Interleaved:
    samples: dict[str, list[float]]
    conditions: Conditions

    def median(self, case: str) -> float:
        return statistics.median(self.samples[case])

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": len(next(iter(self.samples.values()))),
            "samples_s": {k: [round(v, 3) for v in values] for k, values in self.samples.items()},
            "conditions": self.conditions.to_dict(),
        }


def interleave(cases: Mapping[str, Callable[[], float]], rounds: int = MIN_ROUNDS, warm_up: bool = True) -> Interleaved:
    """Each case once unmeasured (``warm_up``), then ``rounds`` rounds of every case in turn (A, B,
    A, B...); each call returns the seconds it measured. Load and steal are watched over the rounds."""
    if rounds < 1:
        raise ValueError("at least one round")
    if warm_up:
        for run in cases.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    with Watch() as watch:
        for _ in range(rounds):
            for name, run in cases.items():
                samples[name].append(run())
    assert watch.conditions is not None
    return Interleaved(samples, watch.conditions)
