"""make bench's measuring discipline (issue 22, item 6): load and steal read from /proc, compared
cases interleaved after a warm-up, and no verdict on a machine busier than it has cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from certpush_dev.bench.machine import Conditions, Watch, interleave, read_cpu_times, read_load_1m, verdict

pytestmark = pytest.mark.unit


def test_load_and_steal_are_read_as_proc5_lays_them_out(tmp_path: Path) -> None:
    loadavg, stat = tmp_path / "loadavg", tmp_path / "stat"
    loadavg.write_text("2.95 2.53 4.35 9/160 24468\n")
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text("cpu  1000 10 200 700 40 0 30 20 500 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")

    assert read_load_1m(loadavg) == 2.95
    assert read_cpu_times(stat) == (2000, 20)  # guest time is already in user: not counted twice
    assert read_load_1m(tmp_path / "missing") is None
    assert read_cpu_times(tmp_path / "missing") is None


def test_a_watch_keeps_the_highest_load_and_the_steal_share_of_its_block() -> None:
    loads = iter([0.5, 2.5, 1.0, 1.0, 1.0, 1.0])
    cpu = iter([(1000, 10), (2000, 160)])

    with Watch(read_load=lambda: next(loads), read_cpu=lambda: next(cpu), every=3600) as watch:
        watch._sample()  # the sampler thread's step, taken here instead of waiting an hour

    assert watch.conditions is not None
    assert watch.conditions.load_1m_start == 0.5
    assert watch.conditions.load_1m_max == 2.5
    assert watch.conditions.steal_pct == 15.0


def test_the_verdict_is_inconclusive_when_the_machine_was_busy() -> None:
    quiet = Conditions(cpu_count=2, load_1m_max=1.9, load_1m_start=1.0, steal_pct=2.0)
    loaded = Conditions(cpu_count=2, load_1m_max=2.1, load_1m_start=1.0, steal_pct=2.0)
    stolen = Conditions(cpu_count=2, load_1m_max=1.0, load_1m_start=1.0, steal_pct=14.0)
    unknown = Conditions(cpu_count=2, load_1m_max=None, load_1m_start=None, steal_pct=None)

    assert verdict(True, quiet) == "met"
    assert verdict(False, quiet) == "**missed**"
    assert verdict(True, loaded) == "inconclusive (load 2.10 / 2 cores, steal 2.0 %; met as measured)"
    assert verdict(False, stolen) == "inconclusive (load 1.00 / 2 cores, steal 14.0 %; missed as measured)"
    assert verdict(True, unknown).startswith("inconclusive (load unknown")
    assert verdict(True, quiet.to_dict()) == "met"  # as read back from a run's JSON


def test_cases_run_interleaved_after_one_warm_up_each() -> None:
    calls: list[str] = []

    def case(name: str, seconds: float) -> float:
        calls.append(name)
        return seconds

    measured = interleave({"a": lambda: case("a", 1.0), "b": lambda: case("b", 3.0)}, rounds=5)

    assert calls == ["a", "b"] + ["a", "b"] * 5
    assert measured.samples == {"a": [1.0] * 5, "b": [3.0] * 5}
    assert measured.median("b") == 3.0
    assert measured.to_dict()["rounds"] == 5
    assert measured.conditions.cpu_count >= 1


def test_the_median_is_taken_not_the_mean() -> None:
    values = iter([9.0, 1.0, 1.2, 30.0, 1.1, 0.9])  # the first is the warm-up

    measured = interleave({"a": lambda: next(values)}, rounds=5)

    assert measured.median("a") == 1.1
