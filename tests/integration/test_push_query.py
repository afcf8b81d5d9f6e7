"""Paginated push queries (port PushRecordsQuery) on the records table of template.yaml
(certpush.adapters.dynamodb_pushes) and on the one-machine host's database (certpush_cli.host.pushes):
the right index for each question, pages that follow each other without gaps or repeats, and
cursors that only the query that made them accepts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
from certpush.errors import InvalidQueryError
from certpush.models.domain import PushQuery, PushRecord, PushStatus, RecordHead
from certpush.models.items import current_item, history_item
from certpush.ports import PushRecordsQuery
from certpush_cli.host.pushes import SqlitePushQuery
from certpush_cli.host.records import SqliteRecordsRepository
from certpush_dev.local.provision import ProvisionedStack

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def _record(n: int, status: PushStatus, region: str, provider: str = "aws", service: str = "elb") -> PushRecord:
    at = START + timedelta(hours=9 * n)  # spreads the records over several days
    return PushRecord(
        certificate_id=f"cert-{n}", version=1, provider=provider, service=service, region=region, status=status,
        issuance_id="iss", push_id=str(uuid.uuid4()), created_at=at, updated_at=at,
        reason="WAF.00012005" if status is PushStatus.FAILED else None,
    )  # fmt: skip


@pytest.fixture(params=["dynamodb", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def records(backend: str, request: pytest.FixtureRequest) -> list[PushRecord]:
    made = [
        _record(n, PushStatus.FAILED if n % 3 == 0 else PushStatus.SUCCEEDED, "us-east-1" if n % 2 else "eu-west-1")
        for n in range(18)
    ]
    if backend == "sqlite":
        repository = SqliteRecordsRepository(request.getfixturevalue("host_database"))
        for record in made:  # written as the pipeline writes them: PENDING, then final with its history
            assert repository.start_push(record.model_copy(update={"status": PushStatus.PENDING}))
            assert repository.finish(record)
        return made
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    table = request.getfixturevalue("dynamodb").Table(stack.outputs["RecordsTableName"])
    with table.batch_writer() as batch:
        for record in made:
            batch.put_item(Item=current_item(record))
            batch.put_item(Item=history_item(record))
    return made


@pytest.fixture
def query(backend: str, request: pytest.FixtureRequest) -> PushRecordsQuery:
    if backend == "sqlite":
        return SqlitePushQuery(request.getfixturevalue("host_database"))
    stack: ProvisionedStack = request.getfixturevalue("clean_stack")
    return DynamoDBPushQuery(stack.outputs["RecordsTableName"], resource=request.getfixturevalue("dynamodb"))


def _all_pages(query: Any, question: PushQuery, limit: int) -> tuple[list[PushRecord], set[str], int]:
    found: list[PushRecord] = []
    indexes: set[str] = set()
    cursor, pages = None, 0
    while True:
        page = query.page(question, limit, cursor, today=TODAY)
        found += page.records
        indexes.add(page.index)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return found, indexes, pages


def test_a_status_reads_by_status_newest_first_in_pages(query, records):
    found, indexes, pages = _all_pages(query, PushQuery(status=PushStatus.FAILED), limit=2)

    expected = sorted((r for r in records if r.status is PushStatus.FAILED), key=lambda r: r.updated_at, reverse=True)
    assert [r.push_id for r in found] == [r.push_id for r in expected]
    assert indexes == {"ByStatus"} and pages == 3


def test_a_whole_target_reads_by_target_within_the_time_window(query, records):
    since, until = START + timedelta(days=2), START + timedelta(days=5)
    question = PushQuery(provider="aws", service="elb", region="eu-west-1", since=since, until=until)

    found, indexes, _ = _all_pages(query, question, limit=3)

    expected = [r for r in records if r.region == "eu-west-1" and since <= r.updated_at <= until]
    assert sorted(r.push_id for r in found) == sorted(r.push_id for r in expected) and expected
    assert indexes == {"ByTarget"}


def test_without_status_or_target_the_history_is_read_day_by_day(query, records):
    question = PushQuery(region="us-east-1", since=START, until=datetime(2026, 11, 26, 23, 59, tzinfo=UTC))

    found, indexes, _ = _all_pages(query, question, limit=4)

    expected = sorted(
        (r for r in records if r.region == "us-east-1" and r.updated_at <= question.until),  # type: ignore[operator]
        key=lambda r: r.updated_at,
        reverse=True,
    )
    assert [r.push_id for r in found] == [r.push_id for r in expected]
    assert indexes == {"ByDay"}


def test_a_cursor_belongs_to_its_query(query, records):
    page = query.page(PushQuery(status=PushStatus.FAILED), 2, None, today=TODAY)
    assert page.cursor

    with pytest.raises(InvalidQueryError):
        query.page(PushQuery(status=PushStatus.SUCCEEDED), 2, page.cursor, today=TODAY)
    with pytest.raises(InvalidQueryError):
        query.page(PushQuery(), 2, page.cursor, today=TODAY)
    with pytest.raises(InvalidQueryError):
        query.page(PushQuery(status=PushStatus.FAILED), 2, "not-a-cursor", today=TODAY)


def test_a_reversed_or_too_long_window_is_refused(query):
    with pytest.raises(InvalidQueryError):
        query.page(PushQuery(since=START, until=START - timedelta(days=1)), 10, None, today=TODAY)
    with pytest.raises(InvalidQueryError):
        query.page(PushQuery(since=START - timedelta(days=60), until=START), 10, None, today=TODAY)


def test_counts_by_status(query, records):
    assert query.count_by_status(PushStatus.FAILED) == sum(r.status is PushStatus.FAILED for r in records)
    assert query.count_by_status(PushStatus.PENDING) == 0


def test_heads_are_every_current_record_of_a_status_with_only_what_a_summary_needs(query, records):
    """The dashboard's read (a projection on DynamoDB): the same records as the pages, each field of
    RecordHead as the record has it, and nothing of another status."""
    for status in (PushStatus.FAILED, PushStatus.SUCCEEDED, PushStatus.PENDING):
        expected = {RecordHead.of(r) for r in records if r.status is status}
        heads = query.heads(status)
        assert len(heads) == len(expected) and set(heads) == expected, status
