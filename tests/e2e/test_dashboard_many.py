"""The dashboard at fifty certificates (issue 20 item 4), in Debian's chromium on the embedded stack:
500 records; a page load makes as many requests, and the records API as many DynamoDB reads, at 50
certificates as at 25 (no request or query per certificate); at 390 px wide the certificate with a
failing target comes first and its failure is on screen, nothing scrolls sideways (a screenshot goes to
.artifacts/). AWS ap-southeast-1 and Huawei Cloud ap-southeast-1 are rows of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, expect

from certpush.logic.certificate_import import import_certificate
from certpush.models.domain import CertificateMaterial, PushRecord, PushStatus, TargetKey
from certpush.models.items import current_item, history_item
from certpush.providers.registry import REGISTRY
from certpush.wiring import SystemClock, certificate_store
from certpush_cli.function_url import FunctionUrlServer
from certpush_cli.sample_certificates import make_certificate
from certpush_cli.stack import settings_for_stack
from certpush_dev.local.aws_calls import AwsCallCounter
from certpush_dev.local.stack import EmbeddedStack

from .test_dashboard_browser import ARTIFACTS, browser, dashboard  # noqa: F401 - the fixtures, shared

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)

REGIONS = {
    ("aws", "elb"): ("us-east-1", "eu-west-1", "ap-southeast-1", "ap-northeast-1"),
    ("huaweicloud", "waf"): ("ap-southeast-1", "cn-north-4", "cn-east-3"),
    ("huaweicloud", "elb"): ("ap-southeast-1", "cn-north-4", "la-north-2"),
}
TARGETS = [TargetKey(provider=p, service=s, region=r) for (p, s), regions in REGIONS.items() for r in regions]
FAILING = TargetKey(provider="huaweicloud", service="waf", region="ap-southeast-1")


def _seed(stack: EmbeddedStack, prefix: str, numbers: range, failing: int) -> None:
    """Certificates imported as `certificates import` stores them, and ten records each written as the
    push worker's finish leaves them (current and history items): one FAILED target, the rest SUCCEEDED."""
    store = certificate_store(settings_for_stack(stack.stack_name))
    table = boto3.resource("dynamodb").Table(stack.provisioned.outputs["RecordsTableName"])
    now = datetime.now(UTC)
    with table.batch_writer() as batch:
        for n in numbers:
            sample = make_certificate(f"site{n:02d}.{prefix}.example.com")
            material = CertificateMaterial(certificate_pem=sample.certificate_pem, chain_pem=sample.chain_pem,
                                           private_key_pem=sample.private_key_pem)  # fmt: skip
            version = import_certificate(store, SystemClock(), material, f"{prefix}-{n:02d}", False,
                                         catalog=REGISTRY).version  # fmt: skip
            for target in TARGETS:
                broken = n == failing and target == FAILING
                record = PushRecord(
                    certificate_id=version.certificate_id, version=1, provider=target.provider,
                    service=target.service, region=target.region,
                    status=PushStatus.FAILED if broken else PushStatus.SUCCEEDED,
                    reason="WAF.00012005" if broken else None,
                    message="HTTP 400: not.subscribe" if broken else None,
                    target_id=None if broken else f"cert-{uuid.uuid4().hex[:12]}",
                    issuance_id=f"seed-{prefix}-{n}", push_id=f"{prefix}-{n}-{target}", created_at=now,
                    updated_at=now,
                )  # fmt: skip
                batch.put_item(Item=current_item(record))
                batch.put_item(Item=history_item(record))


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the shared fixture
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    yield context.new_page()
    context.close()


def _load(page: Page, url: str, server: FunctionUrlServer, calls: AwsCallCounter, first: str) -> tuple[int, int]:
    """Loads the page; returns the API requests it made and the DynamoDB reads the records API made."""
    requests: list[str] = []

    def note(request: Any) -> None:
        if request.url.startswith(server.url) and request.resource_type == "fetch":
            requests.append(request.url)

    page.on("request", note)
    before = calls.snapshot()
    page.goto(url)
    expect(page.locator("#certificates tbody tr").first).to_have_attribute("data-certificate", first)
    page.wait_for_load_state("networkidle")
    after = calls.snapshot()
    page.remove_listener("request", note)
    # reads only: the stream's functions write (issuance summaries) meanwhile; the records API only reads
    reads = ("dynamodb.Query", "dynamodb.Scan", "dynamodb.GetItem", "dynamodb.BatchGetItem")
    return len(requests), sum(after.get(op, 0) - before.get(op, 0) for op in reads)


def test_fifty_certificates_load_in_as_many_requests_as_twenty_five_and_show_the_failure_at_390px(
    stack: EmbeddedStack, dashboard: FunctionUrlServer, phone: Page, aws_calls: AwsCallCounter,  # noqa: F811
) -> None:  # fmt: skip
    prefix = f"many{uuid.uuid4().hex[:6]}"
    failing_id = f"{prefix}-17"
    _seed(stack, prefix, range(25), failing=17)
    _load(phone, dashboard.page_url, dashboard, aws_calls, failing_id)  # the records API builds its clients
    at_25 = _load(phone, dashboard.url + "/", dashboard, aws_calls, failing_id)
    _seed(stack, prefix, range(25, 50), failing=-1)
    at_50 = _load(phone, dashboard.url + "/", dashboard, aws_calls, failing_id)

    assert at_25[0] == at_50[0] == 2, (at_25, at_50)  # the summary and one page of certificates
    assert at_25[1] == at_50[1], (at_25, at_50)  # no DynamoDB read per certificate
    expect(phone.locator("#shown")).to_contain_text("50 of")
    first = phone.locator("#certificates tbody tr").first
    failing = first.locator("td.failing")
    expect(failing).to_contain_text("huaweicloud:waf:ap-southeast-1 WAF.00012005")
    expect(failing).to_be_in_viewport()
    box = failing.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "dashboard-390px-fifty-certificates.png"))

    phone.get_by_label("Failed only").check()
    expect(phone.locator("#certificates tbody tr")).to_have_count(1)
    phone.get_by_role("link", name=failing_id).click()
    cell = phone.locator(f'td[data-target="{FAILING}"]')
    expect(cell).to_contain_text("FAILED")
    cell.scroll_into_view_if_needed()
    expect(cell).to_be_in_viewport()
    box = cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    rows = phone.locator("#grid tbody th").all_inner_texts()
    assert "AWS ap-southeast-1" in rows and "Huawei Cloud ap-southeast-1" in rows
    phone.screenshot(path=str(ARTIFACTS / "dashboard-390px-failing-target.png"))
