"""The dashboard page in a real browser (Debian's chromium, driven by Playwright) on the embedded
stack: a certificate with records in three states, the grid and its links, and a replay that turns
the failed target SUCCEEDED once its cause is gone. Saves a screenshot to .artifacts/.

Then what another web page can do to the dashboard (issue 18): a page on another origin tries a
replay with fetch and with an HTML form, and tries to read the records; a page reached through a
rebound DNS name tries to read them as if it were the dashboard. None of them gets through."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from certpush.models.domain import TargetSpec
from certpush.providers.aws.elb import DEFAULT_CONSOLE_TEMPLATE
from certpush_cli.dashboard import stack_records_api_server
from certpush_cli.function_url import FunctionUrlServer
from certpush_dev.local.aws_hooks import InvocationScope
from certpush_dev.local.stack import EmbeddedStack

from .conftest import ROOT, emit_issued

pytestmark = pytest.mark.e2e
# the page's first load builds the records API's clients, on a machine that runs other tests meanwhile
expect.set_options(timeout=20_000)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".artifacts"
REBOUND_HOST = "rebound.example"  # a name an attacker's DNS answers with 127.0.0.1 (DNS rebinding)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", f"--host-resolver-rules=MAP {REBOUND_HOST} 127.0.0.1",
]  # fmt: skip


def stack_console_link(region: str) -> str:
    return DEFAULT_CONSOLE_TEMPLATE.format(region=region)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (`sudo apt-get install chromium`, or "
            "`make system-packages` as root); Playwright drives it and downloads no browser"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class CountedScope(InvocationScope):
    """The records API function's scope, counting the requests that reached the handler."""

    count = 0

    def __enter__(self) -> None:
        CountedScope.count += 1
        super().__enter__()


@pytest.fixture(scope="module")
def dashboard(stack: EmbeddedStack) -> Iterator[FunctionUrlServer]:
    server: FunctionUrlServer = stack_records_api_server(
        stack.stack_name, scope=lambda: CountedScope("RecordsApiFunction")
    ).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def test_a_failed_target_turns_succeeded_after_a_replay(cli, stack, imported, certificate_id, dashboard, page):
    stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=False)
    try:
        cli("push", certificate_id, "--to", "aws:elb=us-east-1", "--to", "huaweicloud:waf=ap-southeast-2",
            "--wait", "--timeout", "60", expect=1)  # fmt: skip
        # a typo in another producer's event (the CLI refuses it): the validator REJECTs it
        emit_issued(stack, certificate_id, [TargetSpec(provider="aws", service="elb", regions=["mars-1"])])
        page.goto(f"{dashboard.page_url}&cert={certificate_id}")  # as `certpush dashboard` prints it, plus a choice
        expect(page).to_have_url(f"{dashboard.url}/#cert={certificate_id}")  # the token left the address bar

        grid = page.get_by_role("table", name="Targets")
        succeeded = grid.locator('td[data-target="aws:elb:us-east-1"]')
        failed = grid.locator('td[data-target="huaweicloud:waf:ap-southeast-2"]')
        rejected = grid.locator('td[data-target="aws:elb:mars-1"]')
        expect(succeeded).to_contain_text("SUCCEEDED")
        expect(failed).to_contain_text("FAILED")
        expect(failed).to_contain_text("WAF.")  # the reason: the service is not purchased there
        expect(failed.locator(".hint")).to_contain_text("Hint: ")  # what to do about it (the provider's table)
        expect(rejected.locator(".hint")).to_contain_text("records forget")
        expect(rejected).to_contain_text("REJECTED")
        expect(rejected).to_contain_text("REGION_NOT_OFFERED")
        configure = succeeded.get_by_role("link", name="Configure Now: aws:elb:us-east-1")
        expect(configure).to_have_attribute(
            "href", "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#LoadBalancers:"
        )
        expect(page.get_by_role("table", name="Latest 10 push records").locator("tbody tr")).to_have_count(3)
        expect(page.get_by_role("link", name=certificate_id)).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-three-states.png"), full_page=True)

        stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=True)
        expect(page.get_by_role("button", name="Replay 1 failed target")).to_be_enabled()
        failed.get_by_role("button", name="Replay huaweicloud:waf:ap-southeast-2 only (v1)").click()  # this one

        expect(page.get_by_role("status").filter(has_text="Replaying")).to_contain_text(
            "huaweicloud:waf:ap-southeast-2"
        )
        expect(failed).to_contain_text("SUCCEEDED", timeout=30_000)
        expect(failed.get_by_role("link", name="Configure Now: huaweicloud:waf:ap-southeast-2")).to_be_visible()
        expect(page.get_by_role("button", name="Replay failed targets")).to_be_disabled()
        page.screenshot(path=str(ARTIFACTS / "dashboard-after-replay.png"), full_page=True)
    finally:
        stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=True)


# -- another web page ------------------------------------------------------------------------------
ATTACK_PAGE = """<!doctype html><html><body><iframe name="sink"></iframe><script>
const target = "%(target)s", id = "%(id)s", results = {};
async function attempt(name, run) {
  try { results[name] = await run(); } catch (error) { results[name] = `refused: ${error}`; }
}
(async () => {
  await attempt("fetch text/plain replay", async () => {
    const r = await fetch(`${target}/certificates/${id}/replay`,
      {method: "POST", mode: "no-cors", headers: {"content-type": "text/plain"}, body: "{}"});
    return `sent, answer unreadable (${r.type})`;
  });
  await attempt("fetch JSON replay with a guessed token", async () => {
    const r = await fetch(`${target}/certificates/${id}/replay`,
      {method: "POST", headers: {"content-type": "application/json", "x-certpush-token": "guess"}, body: "{}"});
    return `answered ${r.status}`;
  });
  await attempt("read the records", async () => {
    const r = await fetch(`${target}/certificates/${id}`);
    return `read: ${(await r.text()).slice(0, 80)}`;
  });
  await attempt("HTML form replay", () => new Promise((resolve) => {
    const form = document.createElement("form");
    Object.assign(form, {method: "POST", action: `${target}/certificates/${id}/replay`, target: "sink",
                         enctype: "text/plain"});
    document.querySelector("iframe").addEventListener("load", () => resolve("submitted"), {once: true});
    document.body.append(form);
    form.submit();
  }));
  window.results = results;
})();
</script></body></html>"""


@pytest.fixture
def attacker() -> Iterator[tuple[ThreadingHTTPServer, dict[str, str]]]:
    """A web server on another local port: another origin (same host, another port)."""
    served: dict[str, str] = {}

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get("page", "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, served
    server.shutdown()
    server.server_close()


def test_another_origin_can_neither_replay_nor_read_records(
    cli, stack, imported, certificate_id, dashboard, page, attacker
):
    stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=False)
    try:
        cli("push", certificate_id, "--to", "huaweicloud:waf=ap-southeast-2", "--wait", "--timeout", "60", expect=1)
    finally:
        stack.emulators["huaweicloud"].set_service_purchased("waf", "ap-southeast-2", purchased=True)
    failed = cli("records", certificate_id, "--json").json()
    server, served = attacker
    served["page"] = ATTACK_PAGE % {"target": dashboard.url, "id": certificate_id}
    before = CountedScope.count

    page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
    page.wait_for_function("window.results !== undefined")
    results = page.evaluate("window.results")

    assert results["fetch JSON replay with a guessed token"].startswith("refused"), results  # no CORS preflight passes
    assert results["read the records"].startswith("refused"), results
    assert CountedScope.count == before, "a request of another origin reached the records API"
    assert cli("records", certificate_id, "--json").json() == failed, "another origin started a replay"
    assert failed[0]["status"] == "FAILED"

    # DNS rebinding: the attacker's name now points at 127.0.0.1, so its page is "same-origin" with the
    # dashboard's port; the Host header still names the attacker
    rebound = f"http://{REBOUND_HOST}:{dashboard.server_address[1]}"
    response = page.goto(f"{rebound}/certificates/{certificate_id}")
    assert response is not None and response.status == 421
    # the refusal's own policy (default-src 'none') keeps a script there from fetching at all
    status = page.evaluate("fetch('/certificates').then((r) => r.status, (e) => `refused: ${e}`)")
    assert status == 421 or str(status).startswith("refused"), status
    assert CountedScope.count == before
