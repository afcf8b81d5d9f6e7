"""What an operator waits for (issue 20): the command line's start (`certpush --help`, `--version`,
a command's help), and the dashboard's first paint at fifty certificates / 500 records on the embedded
stack, in Debian's chromium. Speed goals live here, not in the tests (targets: --help under 0.4 s,
the dashboard's list painted under 1 s)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FAILING = ("huaweicloud", "waf", "ap-southeast-1")
REGIONS = {
    ("aws", "elb"): ("us-east-1", "eu-west-1", "ap-southeast-1", "ap-northeast-1"),
    ("huaweicloud", "waf"): ("ap-southeast-1", "cn-north-4", "cn-east-3"),
    ("huaweicloud", "elb"): ("ap-southeast-1", "cn-north-4", "la-north-2"),
}


def cli_start(runs: int = 7) -> dict[str, float]:
    """Median wall time, in seconds, of `certpush ARGS` in a process of its own (this virtualenv's)."""
    certpush = str(Path(sys.executable).with_name("certpush"))
    found: dict[str, float] = {}
    for name, args in (("help_s", ["--help"]), ("version_s", ["--version"]), ("push_help_s", ["push", "--help"])):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([certpush, *args], check=True, stdout=subprocess.DEVNULL)  # noqa: S603
            times.append(time.perf_counter() - started)
        found[name] = round(statistics.median(times), 3)
    return found


def _dashboard_records(certificate_id: str, n: int, failing: int, prefix: str, now: datetime) -> list[Any]:
    """Ten records of version 1 of ``certificate_id``, as the push worker's finish leaves them:
    SUCCEEDED, but ``failing``'s Huawei WAF ap-southeast-1 FAILED (WAF.00012005)."""
    from certpush.models.domain import PushRecord, PushStatus

    records = []
    for (provider, service), regions in REGIONS.items():
        for region in regions:
            broken = n == failing and (provider, service, region) == FAILING
            records.append(
                PushRecord(
                    certificate_id=certificate_id,
                    version=1,
                    provider=provider,
                    service=service,
                    region=region,
                    status=PushStatus.FAILED if broken else PushStatus.SUCCEEDED,
                    reason="WAF.00012005" if broken else None,
                    message="HTTP 400: not.subscribe" if broken else None,
                    target_id=None if broken else f"cert-{uuid.uuid4().hex[:12]}",
                    issuance_id=f"seed-{prefix}-{n}",
                    push_id=f"{prefix}-{n}-{provider}-{service}-{region}",
                    created_at=now,
                    updated_at=now,
                )
            )
    return records


def _material(name: str) -> Any:
    from certpush.models.domain import CertificateMaterial
    from certpush_cli.sample_certificates import make_certificate

    sample = make_certificate(name)
    return CertificateMaterial(certificate_pem=sample.certificate_pem, chain_pem=sample.chain_pem,
                               private_key_pem=sample.private_key_pem)  # fmt: skip


def seed_dashboard(stack: Any, prefix: str, numbers: range, failing: int) -> None:
    """Certificates imported as `certificates import` stores them, ten records each written as the push
    worker's finish leaves them (current and history items): SUCCEEDED, but ``failing``'s Huawei WAF
    ap-southeast-1 FAILED (WAF.00012005)."""
    import boto3

    from certpush.models.items import current_item, history_item
    from certpush.providers.registry import REGISTRY
    from certpush.wiring import SystemClock, certificate_store
    from certpush_cli.logic.certificate_import import import_certificate
    from certpush_cli.stack import settings_for_stack

    store = certificate_store(settings_for_stack(stack.stack_name))
    table = boto3.resource("dynamodb").Table(stack.provisioned.outputs["RecordsTableName"])
    now = datetime.now(UTC)
    with table.batch_writer() as batch:
        for n in numbers:
            material = _material(f"site{n:02d}.{prefix}.example.com")
            version = import_certificate(store, SystemClock(), material, f"{prefix}-{n:02d}", False,
                                         catalog=REGISTRY).version  # fmt: skip
            for record in _dashboard_records(version.certificate_id, n, failing, prefix, now):
                batch.put_item(Item=current_item(record))
                batch.put_item(Item=history_item(record))


def seed_home_dashboard(host: Any, prefix: str, numbers: range, failing: int) -> None:
    """The same certificates and records in a one-machine host's home (SQLite), written through its
    repository as a push starts and finishes."""
    from certpush.models.domain import PushStatus
    from certpush.providers.registry import REGISTRY
    from certpush_cli.logic.certificate_import import import_certificate

    now = datetime.now(UTC)
    for n in numbers:
        material = _material(f"site{n:02d}.{prefix}.example.com")
        with host.database.transaction():
            version = import_certificate(host.store, host.clock, material, f"{prefix}-{n:02d}", False,
                                         catalog=REGISTRY).version  # fmt: skip
        finished = _dashboard_records(version.certificate_id, n, failing, prefix, now)
        host.records.start_pushes([r.model_copy(update={"status": PushStatus.PENDING}) for r in finished])
        for record in finished:
            if not host.records.finish(record):
                raise RuntimeError(f"seeding the home: {record.target} of {record.certificate_id} did not finish")


# the page marks the frame that first shows its certificate list (User Timing, dashboard.html)
LIST_PAINTED = "certpush:list-painted"


def _first_paint(server: Any, loads: int) -> dict[str, Any]:
    """Loads the page ``loads`` + 1 times in chromium at 390 px (the first builds the API's clients)
    and reads, from the page's own clock, when its first contentful paint and its certificate list's
    first frame came (ms from navigation start): no harness round trip in the figure."""
    from playwright.sync_api import sync_playwright

    from certpush_dev.bench.machine import Watch

    fcp, listed = [], []
    with Watch() as watch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        # bypass_csp: this harness's own probes (evaluate) are not the page's scripts; the page runs as served
        page = browser.new_page(viewport={"width": 390, "height": 844}, bypass_csp=True)
        for n in range(loads + 1):
            # past the records API's reuse of a read (Dashboard.reuse_seconds): every load reads anew
            page.wait_for_timeout(1500)
            page.goto(server.page_url if n == 0 else server.url + "/")
            page.wait_for_function(f"performance.getEntriesByName({LIST_PAINTED!r}).length > 0")
            shown = page.evaluate(f"performance.getEntriesByName({LIST_PAINTED!r})[0].startTime")
            first = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
            if n:
                listed.append(shown)
                if first is not None:
                    fcp.append(first)
        browser.close()
    return {
        "first_contentful_paint_ms": round(statistics.median(fcp)) if fcp else None,
        "list_painted_ms": round(statistics.median(listed)),
        "list_painted_max_ms": round(max(listed)),
        "loads": loads,
        "conditions": watch.conditions.to_dict() if watch.conditions else None,
    }


def dashboard_first_paint(root: Path, certificates: int = 50, loads: int = 5) -> dict[str, Any]:
    """The page's first contentful paint and the frame that first shows its certificate list (ms from
    navigation start; medians of ``loads`` loads after a first one that builds the API's clients), on a
    stack of its own seeded with ``certificates`` certificates x 10 records."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} not found (make system-packages)"}
    from certpush_cli.dashboard import stack_records_api_server
    from certpush_dev.local.stack import EmbeddedStack

    with EmbeddedStack(root=root, stack_name="bench-dashboard") as stack:
        seed_dashboard(stack, "bench", range(certificates), failing=certificates // 3)
        server = stack_records_api_server(stack.stack_name).start()
        try:
            painted = _first_paint(server, loads)
        finally:
            server.stop()
    records = certificates * sum(len(r) for r in REGIONS.values())
    return {"certificates": certificates, "records": records, **painted}


def home_dashboard_first_paint(certificates: int = 50, loads: int = 5) -> dict[str, Any]:
    """The same, served from a one-machine host's home (SQLite), as `certpush dashboard --home` does."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} not found (make system-packages)"}
    import tempfile

    from certpush_cli.dashboard import records_api_server
    from certpush_cli.host.home import Home
    from certpush_cli.host.wiring import Host

    with tempfile.TemporaryDirectory(prefix="certpush-bench-") as directory:
        host = Host.open(Home.open(Path(directory) / "home"), environ={})
        try:
            seed_home_dashboard(host, "bench", range(certificates), failing=certificates // 3)
            server = records_api_server(host.dashboard, name="home-records-api").start()
            try:
                painted = _first_paint(server, loads)
            finally:
                server.stop()
        finally:
            host.close()
    records = certificates * sum(len(r) for r in REGIONS.values())
    return {"certificates": certificates, "records": records, **painted}
