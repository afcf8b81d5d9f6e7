"""The dashboard page in a real browser (Debian's chromium, driven by Playwright) on the embedded
stack: a certificate with records in three states, the grid and its links, and a replay that turns
the failed target SUCCEEDED once its cause is gone. Saves a screenshot to .artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from certpush.providers.aws.elb import DEFAULT_CONSOLE_TEMPLATE
from certpush_cli.dashboard import stack_records_api_server
from certpush_cli.function_url import FunctionUrlServer
from certpush_dev.local.aws_hooks import InvocationScope
from certpush_dev.local.stack import EmbeddedStack

from .conftest import ROOT

pytestmark = pytest.mark.e2e
# the page's first load builds the records API's clients, on a machine that runs other tests meanwhile
expect.set_options(timeout=20_000)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / ".artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
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


@pytest.fixture(scope="module")
def dashboard_url(stack: EmbeddedStack) -> Iterator[str]:
    server: FunctionUrlServer = stack_records_api_server(
        stack.stack_name, scope=lambda: InvocationScope("RecordsApiFunction")
    ).start()
    yield server.url
    server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def test_a_failed_target_turns_succeeded_after_a_replay(cli, stack, imported, certificate_id, dashboard_url, page):
    stack.huawei.set_service_purchased("waf", "ap-southeast-2", purchased=False)
    try:
        cli("push", certificate_id, "--to", "aws:elb=us-east-1,mars-1", "--to", "huaweicloud:waf=ap-southeast-2",
            "--wait", "--timeout", "60", expect=1)  # fmt: skip
        page.goto(f"{dashboard_url}/#cert={certificate_id}")

        grid = page.get_by_role("table", name="Targets")
        succeeded = grid.locator('td[data-target="aws:elb:us-east-1"]')
        failed = grid.locator('td[data-target="huaweicloud:waf:ap-southeast-2"]')
        rejected = grid.locator('td[data-target="aws:elb:mars-1"]')
        expect(succeeded).to_contain_text("SUCCEEDED")
        expect(failed).to_contain_text("FAILED")
        expect(failed).to_contain_text("WAF.")  # the reason: the service is not purchased there
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

        stack.huawei.set_service_purchased("waf", "ap-southeast-2", purchased=True)
        page.get_by_role("button", name="Replay 1 failed target").click()

        expect(page.get_by_role("status").filter(has_text="Replaying")).to_contain_text(
            "huaweicloud:waf:ap-southeast-2"
        )
        expect(failed).to_contain_text("SUCCEEDED", timeout=30_000)
        expect(failed.get_by_role("link", name="Configure Now: huaweicloud:waf:ap-southeast-2")).to_be_visible()
        expect(page.get_by_role("button", name="Replay failed targets")).to_be_disabled()
        page.screenshot(path=str(ARTIFACTS / "dashboard-after-replay.png"), full_page=True)
    finally:
        stack.huawei.set_service_purchased("waf", "ap-southeast-2", purchased=True)
