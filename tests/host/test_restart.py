"""The one-machine host keeps everything across a kill -9: `certpush serve` killed while it pushes,
started again: certificates, records, history and policies are there, and the pushes it was
killed in the middle of finish, each target holding one copy. SIGTERM lets a push under way finish."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.host.conftest import CliResult, Serve, copies, eventually, material_files, sample, simulator_url

pytestmark = pytest.mark.host

WAF = "huaweicloud:waf=cn-north-4,ap-southeast-1"
ELB = "huaweicloud:elb=cn-north-4"


def _statuses(cli: Callable[..., CliResult], certificate_id: str) -> dict[str, str]:
    return {
        f"{r['provider']}:{r['service']}:{r['region']}": r["status"]
        for r in cli("records", certificate_id, "--json").json()
    }


def _stored_statuses(home: Path, certificate_id: str) -> set[str]:
    """The statuses in the home's database, read directly (polling through the CLI is slow)."""
    with closing(sqlite3.connect(f"file:{home / 'certpush.db'}?mode=ro", uri=True, timeout=30)) as connection:
        rows = connection.execute("SELECT status FROM pushes WHERE certificate_id = ?", (certificate_id,))
        return {status for (status,) in rows}


def test_kill_9_loses_nothing_and_queued_pushes_finish_after_the_restart(
    cli: Callable[..., CliResult], serve: Serve, home: Path, tmp_path: Path
) -> None:
    serve.start()
    cli("policies", "add", "shop", "--pattern", "*.shop.example.com", "--to", WAF)
    cli("certificates", "import", "--id", "first", "--no-push", *material_files(tmp_path, sample("first")))
    cli("push", "first", "--to", WAF, "--wait")
    cli("certificates", "import", "--id", "second", "--no-push", *material_files(tmp_path, sample("second")))
    # the simulated cloud answers slowly: the next pushes are under way when the host is killed (and
    # the requests it had sent still do their work in the cloud after it died)
    httpx.post(f"{simulator_url(home)}/_sim/faults", json={"latency_ms": 8000}, timeout=10).raise_for_status()
    queued = cli("push", "second", "--to", WAF, "--to", ELB)  # serve runs: it takes the pushes up
    assert "sent" in queued.stdout
    eventually(lambda: "IN_PROGRESS" in _stored_statuses(home, "second"), what="a push under way")

    serve.kill9()  # its first requests (reads) are still on their way: the writes were never sent

    assert {c["certificate_id"] for c in cli("certificates", "list", "--json").json()} == {"first", "second"}
    assert set(_statuses(cli, "first").values()) == {"SUCCEEDED"}
    assert [r["status"] for r in cli("history", "first", "--json").json()] == ["SUCCEEDED", "SUCCEEDED"]
    assert [p["name"] for p in cli("policies", "list", "--json").json()] == ["shop"]
    in_flight = _statuses(cli, "second")
    assert len(in_flight) == 3 and set(in_flight.values()) <= {"PENDING", "IN_PROGRESS"}

    httpx.post(f"{simulator_url(home)}/_sim/faults", json={}, timeout=10).raise_for_status()
    serve.start()  # the simulated clouds outlived the host, as real ones would

    eventually(lambda: _stored_statuses(home, "second") == {"SUCCEEDED"}, what="the queued pushes")
    assert set(_statuses(cli, "second").values()) == {"SUCCEEDED"}
    for certificate_id in ("first", "second"):
        name = f"certpush-{certificate_id}-v1"
        assert copies(home, "waf", "cn-north-4", name) == copies(home, "waf", "ap-southeast-1", name) == 1
    assert copies(home, "elb", "cn-north-4", "certpush-second-v1") == 1
    summaries = cli("events", "--kind", "Certificate Push Summary", "--json").json()
    assert sorted(e["detail"]["certificate_id"] for e in summaries) == ["first", "second"]

    # SIGTERM while a push is under way: it finishes, then the host stops
    httpx.post(f"{simulator_url(home)}/_sim/faults", json={"latency_ms": 1000}, timeout=10).raise_for_status()
    cli("push", "first", "--to", "huaweicloud:waf=cn-east-3")
    eventually(lambda: "IN_PROGRESS" in _stored_statuses(home, "first"), what="a push under way")
    assert serve.terminate() == 0
    assert _stored_statuses(home, "first") == {"SUCCEEDED"}


def test_a_push_with_no_serve_running_is_done_by_the_command_itself(
    cli: Callable[..., CliResult], home: Path, tmp_path: Path
) -> None:
    """An ACME deploy hook needs no daemon: the import pushes what the policies match before it returns."""
    (home / "config.toml").write_text((home / "config.toml").read_text() + "simulate = true\n")
    cli("policies", "add", "all", "--pattern", "*.example.com", "--to", WAF)

    files = material_files(tmp_path, sample("hook"))

    imported = cli("certificates", "import", "--id", "hook", *files)

    assert "pushing in this process" in imported.stderr
    assert set(_statuses(cli, "hook").values()) == {"SUCCEEDED"}
    assert copies(home, "waf", "cn-north-4", "certpush-hook-v1") == 1
    again = cli("certificates", "import", "--id", "hook", *files)  # the hook runs again: nothing changes
    assert "already imported" in again.stdout and "pushing" not in again.stderr
