"""The crash suite's zygote: ``python -m tests.host.crash_suite HOME RESULT_FILE [--kills N]``.

One process that imports everything once, then forks host processes (a fork after the imports costs
milliseconds where a new interpreter costs a second) and kills them with SIGKILL, at least N times:

- at random moments (a delay drawn for each child), and
- at injected crash points, where the child kills itself on the n-th time it gets there: while an
  import commits, while a validation commits, right after a target accepted a push, while a push's
  final state commits, while a summary commits, and after a webhook receiver answered.

Each child is what runs on one home: the host's runtime (``HostRuntime``: validation, pushes,
notifications, webhooks) and, on a thread beside it, the importer (an ACME hook's `certificates
import`: a version and its "Certificate Issued" event in one transaction) working through the
certificates not yet imported. After the last kill a child runs until the home is settled, then the
zygote counts: certificates imported (and how many versions), records, copies in each simulated
target, events and webhook deliveries. It writes the figures as JSON; tests/host/test_crash.py
judges them.

The zygote stays single-threaded (simulators and the receiver are processes of their own), so a fork
copies no lock held by another thread."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

# imported here, in the zygote, so that no child pays for them: the adapters its targets use
import certpush.providers.aws.cloudfront_adapter
import certpush.providers.aws.elb_adapter
import certpush.providers.huaweicloud.cdn_adapter
import certpush.providers.huaweicloud.elb_adapter
import certpush.providers.huaweicloud.waf_adapter  # noqa: F401
from certpush.logic.push import PushWorker
from certpush.logic.validation import Validator
from certpush.models.domain import CertificateMaterial, PushPolicy, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.providers.registry import REGISTRY
from certpush_cli.host import simulators
from certpush_cli.host.home import Home
from certpush_cli.host.runtime import HostRuntime
from certpush_cli.host.webhooks import WebhookDeliverer, http_sender
from certpush_cli.host.wiring import Host
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate

CERTIFICATES = 50
TARGETS = (("waf", "cn-north-4"), ("waf", "ap-southeast-1"), ("elb", "cn-north-4"), ("elb", "ap-southeast-1"))
POINTS = ("import", "validation", "after-push", "finish", "summary", "webhook")
SECRET = "crash-suite-webhook-secret"
SETTLE_SECONDS = 120

FORKED = [0.0]
PREBUILT: dict[tuple[str, str], Any] = {}
PREBUILT_HTTP: list[httpx.Client] = []
CONFIG = """
retry_base_seconds = 0
poll_seconds = 0.02
push_concurrency = 2
push_lease_seconds = 60
visibility_timeout_seconds = 60
push_max_receives = 1000
simulate_aws = false

[[webhooks]]
name = "receiver"
url = "{url}"
secret = "{secret}"
max_attempts = 50
"""


# -- the child: a host that may die at a crash point ---------------------------------------------------
class _Die:
    """Kills this process with SIGKILL the ``nth`` time ``hit`` is called, after telling the zygote."""

    def __init__(self, point: str | None, nth: int, report: int) -> None:
        self.point, self.nth, self.report = point, nth, report
        self._lock = threading.Lock()

    def hit(self, point: str) -> None:
        if point != self.point:
            return
        with self._lock:  # two pushes may get there at once: one reports, both die
            self.nth -= 1
            if self.nth == 0:
                os.write(self.report, point.encode())
            if self.nth <= 0:
                os.kill(os.getpid(), signal.SIGKILL)


class _Wrap:
    """Delegates everything to ``inner`` but the methods given."""

    def __init__(self, inner: Any, **methods: Callable[..., Any]) -> None:
        self._inner = inner
        self.__dict__.update(methods)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _material(certificate_id: str, made: dict[str, str]) -> CertificateMaterial:
    return CertificateMaterial(
        certificate_pem=made["certificate"], chain_pem=made["chain"], private_key_pem=SecretStr(made["key"])
    )


def _host(home: Path, die: _Die) -> Host:
    """The host's objects, with the crash point (if any) wired into the one that reaches it. The push
    targets (their HTTP client, whose TLS context costs 50 ms to make) come made from the zygote, as
    the modules do: nothing of them holds a connection or a thread before the fork."""
    host = Host.open(Home(home), simulation=simulators.load(Home(home)))
    host.__dict__["targets"] = dict(PREBUILT)
    database = host.database
    queue = _Wrap(host.queue, send=lambda messages: (host.queue.send(messages), die.hit("validation"))[0])
    host.__dict__["validator"] = Validator(
        store=host.store, policies=host.policies, records=host.records, queue=queue, clock=host.clock,
        catalog=host.registry,
    )  # fmt: skip

    def push_then_die(target: Any) -> Any:
        def upload(request: Any) -> Any:
            result = target.upload(request)
            die.hit("after-push")  # the certificate is in the target; nothing recorded yet
            return result

        return _Wrap(target, upload=upload)

    def finish(record: Any, **options: Any) -> bool:
        with database.transaction():
            finished = host.records.finish(record, **options)
            die.hit("finish")
        return finished

    targets = {key: push_then_die(target) for key, target in host.targets.items()}
    host.__dict__["worker"] = PushWorker(
        store=host.store, records=_Wrap(host.records, finish=finish), targets=targets, clock=host.clock,
        retry=host.worker.retry, lease_seconds=host.config.push_lease_seconds,
    )  # fmt: skip
    events = host.events
    host.__dict__["events"] = _Wrap(
        events, issuance_summary=lambda detail: (events.issuance_summary(detail), die.hit("summary"))[0]
    )
    return host


def _importer(host: Host, certificates: dict[str, dict[str, str]], die: _Die, stop: threading.Event) -> None:
    store = _Wrap(
        host.store, put_version=lambda m, material: (host.store.put_version(m, material), die.hit("import"))[0]
    )
    for certificate_id, made in certificates.items():
        if stop.is_set():
            return
        if host.store.list_versions(certificate_id):
            continue  # imported by an earlier child: the hook ran before (an import that re-runs is a no-op)
        with host.database.transaction():
            result = import_certificate(
                store, host.clock, _material(certificate_id, made), certificate_id, catalog=REGISTRY
            )
            host.inbox.certificate_issued(
                CertificateIssuedDetail(certificate_id=certificate_id, version=result.version.version)
            )
        stop.wait(random.uniform(0, 0.03))


def settled(host: Host, certificates: int) -> bool:
    connection = host.database.connection()

    def count(sql: str) -> int:
        return int(connection.execute(sql).fetchone()[0])

    return (
        count("SELECT COUNT(DISTINCT certificate_id) FROM certificate_versions") == certificates
        and count("SELECT COUNT(*) FROM inbox") == 0
        and count("SELECT COUNT(*) FROM queue") == 0
        and count("SELECT COUNT(*) FROM pushes WHERE status IN ('PENDING', 'IN_PROGRESS')") == 0
        and count("SELECT COUNT(*) FROM history WHERE notified = 0") == 0
        and count("SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'") == 0
        and count("SELECT COUNT(*) FROM pushes") == certificates * len(TARGETS)
    )


def child(home: Path, certificates: dict[str, dict[str, str]], point: str | None, nth: int, report: int) -> None:
    """The host, until it is killed, or (``point`` "settle") until everything is done."""
    logging.basicConfig(filename=home.parent / "crash-children.log", level=logging.WARNING, force=True)
    random.seed(os.getpid())
    die = _Die(point, nth, report)
    host = _host(home, die)
    sender = http_sender(PREBUILT_HTTP[0])

    def send(hook: Any, delivery: Any, body: bytes, headers: dict[str, str]) -> int:
        status = sender(hook, delivery, body, headers)
        die.hit("webhook")
        return status

    deliverer = WebhookDeliverer(host.database, host.config.webhooks, owner=host.owner, sender=send)
    runtime = HostRuntime(host, deliverer=deliverer).start()
    logging.getLogger("crash").warning(
        "child %d ready after %.0f ms", os.getpid(), (time.monotonic() - FORKED[0]) * 1000
    )
    stop = threading.Event()
    threading.Thread(target=_importer, args=(host, certificates, die, stop), daemon=True).start()
    if point != "settle":
        stop.wait()  # until the SIGKILL
    deadline = time.monotonic() + SETTLE_SECONDS
    while not settled(host, len(certificates)) and time.monotonic() < deadline:
        stop.wait(0.05)
    stop.set()
    runtime.stop()
    os._exit(0 if settled(host, len(certificates)) else 3)


# -- the zygote --------------------------------------------------------------------------------------
def _fork(home: Path, certificates: dict[str, dict[str, str]], point: str | None, nth: int) -> tuple[int, int]:
    read, write = os.pipe()
    FORKED[0] = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            child(home, certificates, point, nth, write)
        finally:
            os._exit(4)
    os.close(write)
    return pid, read


def _run_child(
    home: Path, certificates: dict[str, dict[str, str]], point: str | None, nth: int, patience: float
) -> str | None:
    """Forks a host, waits for it to die at its crash point or for ``patience`` seconds, kills it;
    returns the crash point it died at, or None (killed from outside)."""
    pid, report = _fork(home, certificates, point, nth)
    ready, _, _ = select.select([report], [], [], patience)
    reached = os.read(report, 64).decode() or None if ready else None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(report)
    return reached


def _progress(home: Path) -> dict[str, int]:
    """What the home holds right now (a connection opened and closed here: none is open at a fork)."""
    connection = sqlite3.connect(f"file:{home / 'certpush.db'}?mode=ro", uri=True, timeout=30)
    try:

        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        return {
            "imported": count("SELECT COUNT(DISTINCT certificate_id) FROM certificate_versions"),
            "final": count("SELECT COUNT(*) FROM pushes WHERE status NOT IN ('PENDING', 'IN_PROGRESS')"),
            "in_flight": count("SELECT COUNT(*) FROM pushes WHERE status IN ('PENDING', 'IN_PROGRESS')"),
            "undelivered": count("SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'"),
            "inbox": count("SELECT COUNT(*) FROM inbox"),
        }
    finally:
        connection.close()


def _busy(state: dict[str, int]) -> bool:
    """Work was left when the host died (so the kill interrupted it)."""
    return bool(
        state["imported"] < CERTIFICATES
        or state["in_flight"]
        or state["undelivered"]
        or state["inbox"]
        or state["final"] < CERTIFICATES * len(TARGETS)
    )


def _longest_delay(state: dict[str, int], kills: int, wanted: int) -> float:
    """How long a host may live, on a schedule that leaves a quarter of the work for the settling
    host after the last kill, whatever the machine's speed: 0.15 s on schedule, less when the work
    runs ahead of the kills (down to 10 ms: a host killed before it is up does no work), more when
    it runs behind (up to 2 s, on a machine busy with other work)."""
    total = CERTIFICATES * (1 + len(TARGETS))
    left = (CERTIFICATES - state["imported"]) + (CERTIFICATES * len(TARGETS) - state["final"])
    ratio = (left / total) / (0.25 + 0.75 * (wanted - kills) / wanted)
    return min(2.0, max(0.01, 0.15 * ratio**2))


def _reachable(state: dict[str, int]) -> list[str]:
    """The crash points a host can still get to, given what is left to do: while certificates are
    still to import, the import's and the validation's (the later ones come after, and often)."""
    if state["imported"] < CERTIFICATES or state["inbox"]:
        return ["import", "validation"] if state["imported"] < CERTIFICATES else ["validation"]
    points = []
    if state["final"] < CERTIFICATES * len(TARGETS):
        points += ["after-push", "finish", "summary"]
    if state["undelivered"] or state["final"] < CERTIFICATES * len(TARGETS):
        points.append("webhook")
    return points


def _receiver(home: Path) -> tuple[subprocess.Popen[str], str, Path]:
    received = home.parent / "webhooks.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.host.webhook_receiver", SECRET, str(received)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().split()[1]
    return process, url, received


def count_outcome(home: Path, received: Path) -> dict[str, Any]:
    """What the settled home and the simulated targets hold."""
    connection = sqlite3.connect(f"file:{home / 'certpush.db'}?mode=ro", uri=True)
    rows = connection.execute("SELECT certificate_id, service, region, status, push_id FROM pushes").fetchall()
    versions = dict(connection.execute("SELECT certificate_id, COUNT(*) FROM certificate_versions GROUP BY 1"))
    events = connection.execute("SELECT event_id, detail_type, detail FROM events").fetchall()
    issuances = [row[0] for row in connection.execute("SELECT issuance_id FROM issuances")]
    connection.close()
    simulation = simulators.load(Home(home))
    assert simulation is not None
    state = httpx.get(f"{simulation.processes['huaweicloud'].url}/_sim/state", timeout=30).json()
    held = Counter(
        (service, region, certificate["name"])
        for service in {service for service, _ in TARGETS}
        for region, regional in state[service].items()
        for certificate in regional["certificates"]
    )
    lost = duplicates = succeeded = 0
    status = {(c, s, r): st for c, s, r, st, _ in rows}
    for n in range(CERTIFICATES):
        for service, region in TARGETS:
            certificate_id = f"crash-{n:02d}"
            copies = held[(service, region, f"certpush-{certificate_id}-v1")]
            if copies == 0 or status.get((certificate_id, service, region)) != "SUCCEEDED":
                lost += 1
            duplicates += max(0, copies - 1)
            succeeded += int(status.get((certificate_id, service, region)) == "SUCCEEDED")
    summaries = Counter(json.loads(d)["issuance_id"] for _, t, d in events if t == "Certificate Push Summary")
    pushed = Counter(json.loads(d)["push_id"] for _, t, d in events if t == "Certificate Pushed")
    deliveries = [json.loads(line) for line in received.read_text().splitlines()] if received.exists() else []
    delivered = Counter(d["event_id"] for d in deliveries)
    return {
        "certificates": len(versions),
        "versions": sum(versions.values()),
        "targets": len(TARGETS),
        "pushes": len(rows),
        "succeeded": succeeded,
        "lost": lost,
        "duplicates": duplicates,
        "in_flight": sum(1 for *_, st, _ in rows if st in ("PENDING", "IN_PROGRESS")),
        "summaries": sum(summaries.values()),
        "issuances": len(issuances),
        "summaries_twice": sum(1 for n in summaries.values() if n > 1),
        "configure_now": sum(pushed.values()),
        "configure_now_twice": sum(1 for n in pushed.values() if n > 1),
        "events": len(events),
        "webhook_events_missing": len({e[0] for e in events} - set(delivered)),
        "webhook_redeliveries": sum(n - 1 for n in delivered.values()),
        "webhook_bad_signatures": sum(1 for d in deliveries if not d["signature_ok"]),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261127)
    arguments = parser.parse_args(argv)
    home: Path = arguments.home
    rng = random.Random(arguments.seed)
    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING)

    Home.open(home)
    receiver, url, received = _receiver(home)
    try:
        (home / "config.toml").write_text(CONFIG.format(url=url, secret=SECRET))
        (home / "config.toml").chmod(0o600)
        simulation = simulators.ensure_running(Home(home))
        # every request answers after 40 ms: pushes are under way long enough to be killed in the middle
        simulator = simulation.processes["huaweicloud"].url
        httpx.post(f"{simulator}/_sim/faults", json={"latency_ms": 40}, timeout=10).raise_for_status()
        setup = Host.open(Home(home))
        setup.policies.put_policy(
            PushPolicy(
                name="crash",
                pattern="*.crash.example.com",
                targets=[
                    TargetSpec(provider="huaweicloud", service="waf", regions=["cn-north-4", "ap-southeast-1"]),
                    TargetSpec(provider="huaweicloud", service="elb", regions=["cn-north-4", "ap-southeast-1"]),
                ],
            )
        )
        setup.simulation = simulation
        PREBUILT.update(setup.targets)
        PREBUILT_HTTP.append(httpx.Client())
        setup.close()
        certificates: dict[str, dict[str, str]] = {}
        for n in range(CERTIFICATES):
            made = make_certificate(f"c{n}.crash.example.com")
            certificates[f"crash-{n:02d}"] = {
                "certificate": made.certificate_pem, "chain": made.chain_pem, "key": made.private_key_pem
            }  # fmt: skip

        kills: Counter[str] = Counter()
        busy_kills = 0
        state = _progress(home)
        # kills that interrupt work: the hosts are killed until that many did, while there is work left
        while busy_kills < arguments.kills and _busy(state):
            reachable = _reachable(state)
            # half the hosts die at a crash point (the one least often reached so far), half at random
            point = min(reachable, key=lambda p: kills[p] + rng.random()) if reachable and rng.random() < 0.5 else None
            longest = _longest_delay(state, busy_kills, arguments.kills)
            patience = rng.uniform(0.005, longest) if point is None else max(0.3, 2 * longest)
            reached = _run_child(home, certificates, point, rng.randint(1, 2), patience)
            kills[reached or "random"] += 1
            state = _progress(home)
            busy_kills += int(bool(reached) or _busy(state))

        left = CERTIFICATES * len(TARGETS) - state["final"]
        settle_started = time.monotonic()
        pid, report = _fork(home, certificates, "settle", 0)
        _, status = os.waitpid(pid, 0)
        os.close(report)
        figures = count_outcome(home, received)
        figures.update(
            {
                "kills": sum(kills.values()),
                "kills_while_busy": busy_kills,
                "kills_by_point": dict(kills),
                "settled": os.waitstatus_to_exitcode(status) == 0,
                "pushes_left_after_the_kills": left,
                "settle_seconds": round(time.monotonic() - settle_started, 1),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        arguments.result.write_text(json.dumps(figures, indent=2))
    finally:
        os.kill(receiver.pid, signal.SIGTERM)
        receiver.wait(timeout=10)
        simulators.stop(Home(home))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
