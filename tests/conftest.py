"""Settings every tier shares, and run-wide reports: the fault suite's figures and the
least-privilege check (tests/least_privilege.py), both gathered from every xdist worker's files
under .certpush/ and read here, on the controller."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.least_privilege import (
    CALLS_DIR,
    compare,
    granted_actions,
    recorded_calls,
    reference_problems,
    transformed_template,
)

# No per-example deadline: a shared 2-core machine makes timings noisy, and speed goals live in
# `make bench`. CI (CI=true) runs the same examples every time, so that a submission is judged on
# what was run before it; `HYPOTHESIS_PROFILE=explore` searches afresh.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, database=None)
settings.register_profile("explore", parent=settings.get_profile("dev"), max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parents[1]
FIGURES_FILE = ROOT / ".certpush" / "fault-figures.jsonl"
CRASH_FIGURES_FILE = ROOT / ".certpush" / "crash-figures.jsonl"
E2E_FILES = {path.name for path in (ROOT / "tests" / "e2e").glob("test_*.py")}


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _controller(session.config):
        shutil.rmtree(CALLS_DIR, ignore_errors=True)
        FIGURES_FILE.unlink(missing_ok=True)
        CRASH_FIGURES_FILE.unlink(missing_ok=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _controller(session.config):
        return
    calls, files = recorded_calls()
    if not files >= E2E_FILES:
        return  # only the whole e2e tier says which grants are unused
    cloudformation = transformed_template()
    problems = compare(calls, granted_actions(cloudformation)) + reference_problems(cloudformation)
    session.config.stash[_PROBLEMS] = problems
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_PROBLEMS = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _controller(config):
        return
    if FIGURES_FILE.exists():
        rows = [json.loads(line) for line in FIGURES_FILE.read_text().splitlines() if line.strip()]
        terminalreporter.section("fault suite")
        columns = {
            "pushes": "pushes", "succeeded": "succeeded", "superseded": "superseded", "replaced": "replaced",
            "attach_failed": "attach failed", "failed": "failed", "lost": "lost", "duplicates": "duplicates",
            "in_flight": "in flight", "unreported_dead_letters": "DLQ unreported", "disagreeing": "record≠target",
            "rollbacks": "rollbacks w/o --rollback", "summaries_missing": "no summary",
            "summaries_repeated": "summary twice", "swept": "swept",
        }  # fmt: skip
        widths = {key: len(head) + 2 for key, head in columns.items()}
        terminalreporter.write_line(
            f"{'scenario':<22}" + "".join(f"{h:>{widths[k]}}" for k, h in columns.items()) + f"{'seconds':>9}"
        )
        for row in rows:
            terminalreporter.write_line(
                f"{row['scenario']:<22}"
                + "".join(f"{row.get(k, 0):>{widths[k]}}" for k in columns)
                + f"{row['seconds']:>9}"
            )
        totals = {k: sum(r.get(k, 0) for r in rows) for k in columns}
        terminalreporter.write_line(f"{'total':<22}" + "".join(f"{totals[k]:>{widths[k]}}" for k in columns))
    if CRASH_FIGURES_FILE.exists():
        _crash_figures(terminalreporter, [json.loads(line) for line in CRASH_FIGURES_FILE.read_text().splitlines()])
    problems = config.stash.get(_PROBLEMS, None)
    if problems is not None:
        terminalreporter.section("least privilege (AWS calls of the e2e tier vs. the roles; the IAM reference)")
        for line in problems or ["every call is granted and every grant is used"]:
            terminalreporter.write_line(line)


def _crash_figures(terminalreporter: Any, runs: list[dict[str, Any]]) -> None:
    """The crash suite's figures (tests/host/test_crash.py), as README "Guarantees" quotes them."""
    terminalreporter.section("crash suite (one-machine host, SIGKILL)")
    for figures in runs:
        by_point = ", ".join(f"{point} {n}" for point, n in sorted(figures["kills_by_point"].items()))
        rows = [
            ("kills (all while work was left)", f"{figures['kills']} ({figures['kills_while_busy']})"),
            ("  by point", by_point),
            (
                "certificates x targets",
                f"{figures['certificates']} x {figures['targets']} = {figures['pushes']} pushes",
            ),
            ("succeeded", figures["succeeded"]),
            ("lost", figures["lost"]),
            ("duplicate copies in targets", figures["duplicates"]),
            ("left in flight", figures["in_flight"]),
            ("summaries (emitted twice)", f"{figures['summaries']} ({figures['summaries_twice']})"),
            ("configure-now events (twice)", f"{figures['configure_now']} ({figures['configure_now_twice']})"),
            ("webhook events missing", figures["webhook_events_missing"]),
            ("webhook redeliveries (same id)", figures["webhook_redeliveries"]),
            ("seconds", figures["seconds"]),
        ]
        for name, value in rows:
            terminalreporter.write_line(f"{name:<34}{value}")
