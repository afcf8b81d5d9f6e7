"""What dashboards ask of the records table and the inventory, answered in API models."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from certpush.errors import CertificateNotFoundError
from certpush.logic import cursors
from certpush.logic.expiry import days_left
from certpush.logic.hints import own_hint
from certpush.logic.issuances import Issuances, NoPushRecordsError
from certpush.logic.record_rules import ACTIVE
from certpush.models.api import (
    CertificateDetail,
    CertificateList,
    CertificateSummary,
    CertificateVersionView,
    Expiry,
    PushPage,
    PushRecordView,
    ReplayResult,
    StatusCounts,
    Summary,
)
from certpush.models.domain import CertificateVersion, PushQuery, PushRecord, PushStatus, RecordHead, TargetKey
from certpush.ports import CertificateStore, Clock, IssuancePublisher, PushRecordsQuery, ReplayRecords

_GONE_BY = (PushStatus.REPLACED, PushStatus.SUPERSEDED)
_FAILING = (PushStatus.FAILED, PushStatus.ATTACH_FAILED)
_NEEDS_ACTION = (*_FAILING, PushStatus.REJECTED)
_PAGE = 1000  # records per query of the status index


R = TypeVar("R", PushRecord, RecordHead)


def newest_per_target(records: Sequence[R]) -> list[R]:
    """The record of the newest version in each target: what the target serves or is getting. A
    version that another replaced in place (or that a newer one superseded) gives way to any other
    record, so after a rollback the grid shows the older version that is there."""
    chosen: dict[TargetKey, R] = {}

    def rank(record: R) -> tuple[bool, int]:
        return record.status not in _GONE_BY, record.version

    for record in records:
        known = chosen.get(record.target)
        if known is None or rank(record) > rank(known):
            chosen[record.target] = record
    return sorted(chosen.values(), key=lambda r: (r.provider, r.service, r.region))


@dataclass
class Dashboard:
    store: CertificateStore
    records: ReplayRecords
    pushes: PushRecordsQuery
    publisher: IssuancePublisher
    clock: Clock
    expiry_warning_days: int = 30
    # what to do about a record's reason (provider, reason) -> one line: the wiring passes the providers'
    # table (certpush.providers.registry.hint_for); by default certpush's own reasons
    hint_for: Callable[[str, str | None], str | None] = field(default=own_hint, repr=False)
    cursor_key: bytes = field(default_factory=cursors.random_key, repr=False)  # signs the records API's cursors
    # a page load asks for the summary and the list at once: within this many seconds they share one
    # read of the current records (0: every call reads)
    reuse_seconds: float = 0.0
    _read_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, init=False)
    _last_read: tuple[float, dict[str, list[RecordHead]]] | None = field(default=None, repr=False, init=False)

    def expiry(self, certificate: CertificateVersion) -> Expiry:
        left = days_left(certificate.not_after, self.clock.now())
        return Expiry(not_after=certificate.not_after, days_left=left, expiring=left < self.expiry_warning_days)

    def _summary(self, certificate: CertificateVersion, current: Sequence[R]) -> CertificateSummary:
        targets = newest_per_target(current)
        return CertificateSummary(
            certificate_id=certificate.certificate_id,
            version=certificate.version,
            common_name=certificate.common_name,
            sans=certificate.sans,
            status=certificate.status.value,
            expiry=self.expiry(certificate),
            targets=StatusCounts.of([r.status for r in targets]),
            last_push=max((r.updated_at for r in current), default=None),
            in_flight=any(r.status in ACTIVE for r in current),
            failing=[f"{r.target} {r.reason or r.status.value}".strip() for r in targets if r.status in _FAILING],
        )

    def _current_of_every_certificate(self) -> dict[str, list[RecordHead]]:
        """Every current record, by certificate: one query (page) per status through the status index
        (DynamoDB ByStatus, eventually consistent; SQLite: one SELECT each), however many certificates
        there are: no query per certificate."""
        with self._read_lock:
            if self._last_read is not None and time.monotonic() - self._last_read[0] < self.reuse_seconds:
                return self._last_read[1]
            found = self._read_current()
            self._last_read = (time.monotonic(), found)
            return found

    def _read_current(self) -> dict[str, list[RecordHead]]:
        found: dict[str, list[RecordHead]] = {}
        for status in PushStatus:
            for head in self.pushes.heads(status):
                found.setdefault(head.certificate_id, []).append(head)
        return found

    def certificates(
        self, *, failed_only: bool = False, search: str | None = None, limit: int = 100, offset: int = 0
    ) -> CertificateList:
        """The inventory with each certificate's counts, failures first (then by id); ``failed_only``:
        those with a target FAILED or ATTACH_FAILED; ``search``: a part of the id or of a name, any case.
        A page of ``limit`` from ``offset`` (``next_offset``: the following page, None at the end)."""
        current = self._current_of_every_certificate()
        summaries = [self._summary(c, current.get(c.certificate_id, [])) for c in self.store.list_certificates()]
        if search:
            needle = search.casefold()
            names = {s.certificate_id: [s.certificate_id, s.common_name, *s.sans] for s in summaries}
            summaries = [s for s in summaries if any(needle in n.casefold() for n in names[s.certificate_id])]
        if failed_only:
            summaries = [s for s in summaries if s.failing]
        summaries.sort(key=lambda s: (not s.failing, s.certificate_id))
        page = summaries[offset : offset + limit]
        following = offset + limit
        return CertificateList(
            certificates=page,
            expiry_warning_days=self.expiry_warning_days,
            total=len(summaries),
            next_offset=following if following < len(summaries) else None,
        )

    def certificate(self, certificate_id: str) -> CertificateDetail:
        """Raises CertificateNotFoundError when the inventory does not know it."""
        versions = self.store.list_versions(certificate_id)
        if not versions:
            raise CertificateNotFoundError(certificate_id)
        latest = max(versions, key=lambda v: v.version)
        current = self.records.list_current(certificate_id)
        ordered = sorted(current, key=lambda r: (-r.version, r.provider, r.service, r.region))
        return CertificateDetail(
            summary=self._summary(latest, current),
            versions=[CertificateVersionView.of(v) for v in sorted(versions, key=lambda v: -v.version)],
            targets=[self._view(r) for r in newest_per_target(current)],
            records=[self._view(r) for r in ordered],
            history=[self._view(r) for r in self.records.history(certificate_id)],
        )

    def _view(self, record: PushRecord) -> PushRecordView:
        """The record with a hint when it needs the operator (FAILED, ATTACH_FAILED, REJECTED)."""
        view = PushRecordView.of(record)
        if record.status in _NEEDS_ACTION:
            view.hint = self.hint_for(record.provider, record.reason)
        return view

    def push_page(self, query: PushQuery, limit: int, cursor: str | None) -> PushPage:
        """InvalidQueryError for a cursor this API did not hand out for ``query`` (certpush.logic.cursors)."""
        position = cursors.verify(self.cursor_key, query, cursor) if cursor is not None else None
        page = self.pushes.page(query, limit, position)
        signed = cursors.sign(self.cursor_key, query, page.cursor) if page.cursor is not None else None
        return PushPage(pushes=[PushRecordView.of(r) for r in page.records], source=page.index, next_cursor=signed)

    def summary(self) -> Summary:
        certificates = self.store.list_certificates()
        statuses = [r.status for records in self._current_of_every_certificate().values() for r in records]
        return Summary(
            pushes=StatusCounts(**{s.value: statuses.count(s) for s in PushStatus}),
            certificates=len(certificates),
            expiring=sum(1 for c in certificates if self.expiry(c).expiring),
            expiry_warning_days=self.expiry_warning_days,
        )

    def replay(
        self, certificate_id: str, version: int | None = None, target: TargetKey | None = None
    ) -> ReplayResult | None:
        """Pushes the version's FAILED and ATTACH_FAILED targets again (``target``: that one alone, if it
        failed). None when the certificate (version) has no push records."""
        if version is not None and not any(r.version == version for r in self.records.list_current(certificate_id)):
            return None
        try:
            plan, issuance_id = Issuances(self.records, self.publisher, self.clock).replay(
                certificate_id, version, only=target
            )
        except NoPushRecordsError:
            return None
        return ReplayResult(
            certificate_id=certificate_id,
            version=plan.version,
            issuance_id=issuance_id,
            targets=[str(r.target) for r in plan.failed],
        )
