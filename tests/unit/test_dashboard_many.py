"""The dashboard for many certificates (issue 20 item 4): `GET /certificates` reads the current records
with one query per status, however many certificates there are (no query per certificate), puts the
certificates with a failing target first and names those targets, filters (failed only, search) and
pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certpush.logic.dashboard import Dashboard
from certpush.models.domain import (
    CertificateVersion,
    PushQuery,
    PushRecord,
    PushRecordsPage,
    PushStatus,
    RecordHead,
    TargetKey,
)
from certpush_cli.sample_certificates import make_certificate
from tests.fakes import FixedClock, InMemoryCertificateStore, InMemoryPushQuery, InMemoryRecordsRepository
from tests.unit.conftest import material_of

pytestmark = pytest.mark.unit

TARGETS = [
    TargetKey(provider=p, service=s, region=r)
    for p, s, r in (("aws", "elb", "ap-southeast-1"), ("huaweicloud", "waf", "ap-southeast-1"),
                    ("huaweicloud", "elb", "cn-north-4"))
]  # fmt: skip


class CountingQuery(InMemoryPushQuery):
    """Counts the reads of the status index: a page or every record head of one status each."""

    calls = 0

    def page(self, query: PushQuery, limit: int, cursor: str | None) -> PushRecordsPage:
        CountingQuery.calls += 1
        return super().page(query, limit, cursor)

    def heads(self, status: PushStatus) -> list[RecordHead]:
        CountingQuery.calls += 1
        return super().heads(status)


class NoPerCertificateReads(InMemoryRecordsRepository):
    def list_current(self, certificate_id: str) -> list[PushRecord]:
        raise AssertionError("a query per certificate")


def _seed(count: int, store_certificate: Callable[..., CertificateVersion], records: InMemoryRecordsRepository,
          clock: FixedClock, failing: set[int]) -> None:  # fmt: skip
    for n in range(count):
        certificate = store_certificate(material_of(make_certificate(f"site{n:02d}.example.com")), f"site-{n:02d}")
        for target in TARGETS:
            failed = n in failing and target.provider == "huaweicloud" and target.service == "waf"
            now = clock.now()
            records.current[(certificate.certificate_id, 1, target)] = PushRecord(
                certificate_id=certificate.certificate_id, version=1, provider=target.provider,
                service=target.service, region=target.region,
                status=PushStatus.FAILED if failed else PushStatus.SUCCEEDED,
                reason="WAF.00012005" if failed else None, issuance_id="i", push_id=f"p-{n}-{target}",
                created_at=now, updated_at=now,
            )  # fmt: skip


@pytest.mark.parametrize("count", [5, 50])
def test_the_list_reads_the_records_with_a_query_per_status_whatever_the_number_of_certificates(
    count: int, store: InMemoryCertificateStore, store_certificate: Callable[..., CertificateVersion], clock: FixedClock
) -> None:
    records = NoPerCertificateReads()
    _seed(count, store_certificate, records, clock, failing={count - 1})
    CountingQuery.calls = 0

    listed = Dashboard(store, records, CountingQuery(records), None, clock).certificates()  # type: ignore[arg-type]

    assert CountingQuery.calls == len(PushStatus)
    assert listed.total == count and len(listed.certificates) == count
    assert listed.certificates[0].certificate_id == f"site-{count - 1:02d}"  # the failing one first
    assert listed.certificates[0].failing == ["huaweicloud:waf:ap-southeast-1 WAF.00012005"]
    assert [c.certificate_id for c in listed.certificates[1:]] == [f"site-{n:02d}" for n in range(count - 1)]


def test_failed_only_search_and_pages(
    store: InMemoryCertificateStore, store_certificate: Callable[..., CertificateVersion],
    records: InMemoryRecordsRepository, clock: FixedClock,
) -> None:  # fmt: skip
    _seed(12, store_certificate, records, clock, failing={3, 7})
    dashboard = Dashboard(store, records, InMemoryPushQuery(records), None, clock)  # type: ignore[arg-type]

    assert [c.certificate_id for c in dashboard.certificates(failed_only=True).certificates] == ["site-03", "site-07"]
    assert [c.certificate_id for c in dashboard.certificates(search="SITE1").certificates] == [
        "site-10", "site-11"]  # fmt: skip
    assert [c.certificate_id for c in dashboard.certificates(search="site07.example").certificates] == ["site-07"]
    first = dashboard.certificates(limit=5)
    second = dashboard.certificates(limit=5, offset=first.next_offset or 0)
    last = dashboard.certificates(limit=5, offset=second.next_offset or 0)
    assert (first.next_offset, second.next_offset, last.next_offset) == (5, 10, None)
    ids = [c.certificate_id for page in (first, second, last) for c in page.certificates]
    assert ids[:2] == ["site-03", "site-07"] and sorted(ids) == [f"site-{n:02d}" for n in range(12)]
