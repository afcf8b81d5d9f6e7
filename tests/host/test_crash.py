"""The crash suite (``pytest -m crash``; part of make test): the host killed with SIGKILL at least 200
times, at random moments and at injected crash points (during an import, a validation, after a
target accepted a push, while a push's final state or a summary commits, after a webhook receiver
answered), across 50 certificates x 4 targets. Once it settles: nothing lost, no second copy in any
target, nothing left in flight, every summary emitted once and every event delivered to the webhook.
The zygote that forks and kills the hosts is tests/host/crash_suite.py; its figures are printed at
the end of the run and quoted in docs/guarantees.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.host.conftest import ROOT

pytestmark = [pytest.mark.host, pytest.mark.crash]

KILLS = 200
FIGURES_FILE = ROOT / ".certpush" / "crash-figures.jsonl"


def test_kill_9_at_any_point_loses_nothing_and_pushes_nothing_twice(home: Path, tmp_path: Path) -> None:
    result = tmp_path / "crash.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CERTPUSH_", "HUAWEICLOUD_"))}
    done = subprocess.run(
        [sys.executable, "-m", "tests.host.crash_suite", str(home), str(result), "--kills", str(KILLS)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=480, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(result.read_text())
    FIGURES_FILE.parent.mkdir(exist_ok=True)
    with FIGURES_FILE.open("a") as out:
        out.write(json.dumps(figures) + "\n")

    assert figures["settled"], figures
    assert figures["kills_while_busy"] >= KILLS, figures
    points = figures["kills_by_point"]
    assert all(points.get(p, 0) > 0 for p in ("import", "validation", "after-push", "finish", "webhook")), points
    assert (figures["certificates"], figures["versions"]) == (50, 50), figures
    assert (figures["pushes"], figures["succeeded"]) == (200, 200), figures
    assert (figures["lost"], figures["duplicates"], figures["in_flight"]) == (0, 0, 0), figures
    assert figures["summaries"] == figures["issuances"] == 50 and figures["summaries_twice"] == 0, figures
    assert figures["configure_now"] == 200 and figures["configure_now_twice"] == 0, figures
    assert figures["webhook_events_missing"] == 0 and figures["webhook_bad_signatures"] == 0, figures
