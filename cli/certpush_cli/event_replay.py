"""`certpush replay --events --since T [--until T]`: sends the archived "Certificate Issued" events of a
time window through the stack's bus again (EventBridge StartReplay), so the validator sees them anew.

A replayed event keeps what its issuance was: the validator resolved it to a version once, when it
first saw it (the issuance item), and reuses that version and the outcomes of its targets: a final
target is left as it is, a target retracted since is not pushed again (only an explicit `certpush
push` does), a target whose record another issuance left FAILED is pushed again. The validator notes
what it did per issuance under the replay's name (``ReplayLog``); ``follow_replay`` waits for it and
for the pushes it made, and prints one line per issuance.

EventBridge does not say how many events a replay sends (DescribeReplay has no count): the issuances
to expect are those the records know of in the window (history entries created in it); others are
printed as they come. moto's StartReplay ignores the time window and replays the whole archive (every
event of the embedded stack): more issuances, each handled as above."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from certpush.adapters.aws_clients import aws_client
from certpush.errors import CertpushError, InvalidQueryError
from certpush.models.domain import PushQuery, ReplayReport
from certpush.ports import PushRecordsQuery, RecordQueries, ReplayLog
from certpush_cli.stack import stack_outputs

FINAL_STATES = {"COMPLETED", "CANCELLED", "FAILED"}


class EventReplayError(CertpushError):
    pass


class ReplayTimeoutError(EventReplayError):
    """The replay, the validator's reports or the pushes they made were not all done in time."""


FINE = {"SUCCEEDED", "SUPERSEDED", "ALREADY_PUSHED"}


def parse_time(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise EventReplayError(f"{option} '{value}' is not an ISO 8601 time, e.g. 2026-11-27T08:00:00Z") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def start_event_replay(
    stack: str, since: datetime, until: datetime | None, client: Any | None = None
) -> tuple[str, datetime]:
    """Starts the replay; returns its name and the end of the window."""
    outputs = stack_outputs(stack)
    if "IssuedEventArchiveArn" not in outputs:
        raise EventReplayError(
            f"stack '{stack}' has no event archive (output IssuedEventArchiveArn); deploy this version"
        )
    end = until or datetime.now(UTC)
    if since >= end:
        raise EventReplayError(f"--since {since:%Y-%m-%dT%H:%M:%SZ} is not before the end of the window")
    name = f"{stack}-{int(time.time() * 1000)}"[:64]
    events = client or aws_client("events")
    try:
        events.start_replay(
            ReplayName=name,
            Description=f"certpush replay --events {since.isoformat()}..{end.isoformat()}",
            EventSourceArn=outputs["IssuedEventArchiveArn"],
            EventStartTime=since,
            EventEndTime=end,
            Destination={"Arn": outputs["EventBusArn"]},
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise EventReplayError(f"EventBridge refused the replay: {error.get('Code')} {error.get('Message')}") from exc
    return name, end


def wait_for_replay(name: str, timeout: float, client: Any | None = None, interval: float = 0.5) -> str:
    """Polls the replay's state until it is final; returns it."""
    events = client or aws_client("events")
    deadline = time.monotonic() + timeout
    while True:
        state = str(events.describe_replay(ReplayName=name)["State"])
        if state in FINAL_STATES:
            return state
        if time.monotonic() > deadline:
            raise ReplayTimeoutError(f"replay {name} is still {state} after {timeout:.0f}s")
        time.sleep(interval)


@dataclass
class ReplayOutcome:
    state: str
    reports: list[ReplayReport] = field(default_factory=list)
    pushed: dict[tuple[str, str], str] = field(default_factory=dict)  # (issuance, target) -> final status

    def counts(self) -> dict[str, int]:
        kinds = [action.split(":", 1)[0] for report in self.reports for action in report.actions.values()]
        return {kind: kinds.count(kind) for kind in ("PUSHED", "FINAL", "RETRACTED", "REJECTED")}

    def summary(self) -> str:
        counts = self.counts()
        return (
            f"{len(self.reports)} issuance(s): {counts['PUSHED']} target(s) pushed, {counts['FINAL']} skipped "
            f"(final), {counts['RETRACTED']} skipped (retracted), {counts['REJECTED']} rejected"
        )

    @property
    def all_in_place(self) -> bool:
        return all(status in FINE for status in self.pushed.values())


def describe(report: ReplayReport, pushed: dict[tuple[str, str], str]) -> str:
    """One line per issuance: what became of each of its targets."""
    parts = []
    for target, action in sorted(report.actions.items()):
        kind, _, detail = action.partition(":")
        if kind == "PUSHED":
            parts.append(f"{target} pushed ({pushed.get((report.issuance_id, target), 'in flight')})")
        elif kind == "FINAL":
            parts.append(f"{target} skipped: final ({detail})")
        elif kind == "RETRACTED":
            parts.append(f"{target} skipped: retracted")
        else:
            parts.append(f"{target} rejected ({detail})")
    return f"issuance {report.issuance_id} {report.certificate_id} v{report.version}: " + "; ".join(parts)


EVENT_LAG = timedelta(minutes=1)
"""How much later than its event an issuance may have been validated (EventBridge delivers within
seconds; a throttled or retried invocation later)."""


def expected_issuances(pushes: PushRecordsQuery, since: datetime, until: datetime) -> set[str]:
    """The issuances the records know of in the window: every history entry created in it names one.
    Those created in its first ``EVENT_LAG`` are left out (their event may be older than the window,
    so not replayed), and a window longer than the history's 31 days expects none: what comes is
    printed all the same."""
    found: set[str] = set()
    since = since + EVENT_LAG
    cursor: str | None = None
    try:
        while True:
            page = pushes.page(PushQuery(since=since - EVENT_LAG, until=None), 100, cursor)
            found |= {r.issuance_id for r in page.records if since <= r.created_at <= until}
            cursor = page.cursor
            if cursor is None:
                return found
    except InvalidQueryError:
        return found


def follow_replay(
    replay_name: str,
    since: datetime,
    until: datetime,
    timeout: float,
    *,
    events: Any,
    replays: ReplayLog,
    records: RecordQueries,
    pushes: PushRecordsQuery,
    on_line: Callable[[str], None],
    interval: float = 0.5,
    quiet_polls: int = 2,
) -> ReplayOutcome:
    """Waits until the replay is final, the validator reported every issuance the window is known to
    hold (and no other report came for ``quiet_polls`` polls), and every push it made is final; prints
    one line per issuance (``on_line``). Raises ReplayTimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    state = wait_for_replay(replay_name, timeout, events, interval)
    expected = expected_issuances(pushes, since, until)
    seen: dict[str, ReplayReport] = {}
    quiet = 0
    while True:
        fresh = [r for r in replays.reports(replay_name) if r.issuance_id not in seen]
        seen.update({r.issuance_id: r for r in fresh})
        quiet = 0 if fresh else quiet + 1
        if expected <= set(seen) and quiet >= quiet_polls:
            break
        if time.monotonic() > deadline:
            missing = len(expected - set(seen))
            raise ReplayTimeoutError(
                f"replay {replay_name}: {missing} issuance(s) of the window not seen by the validator after "
                f"{timeout:.0f}s ({len(seen)} reported)"
            )
        time.sleep(interval)
    outcome = ReplayOutcome(state=state, reports=sorted(seen.values(), key=lambda r: (r.noted_at, r.issuance_id)))
    for report in outcome.reports:
        for target, action in report.actions.items():
            if action == "PUSHED":
                outcome.pushed[(report.issuance_id, target)] = _final_status(
                    records, report, target, deadline, interval
                )
        on_line(describe(report, outcome.pushed))
    return outcome


def _final_status(records: RecordQueries, report: ReplayReport, target: str, deadline: float, interval: float) -> str:
    """The status the replay's push of ``target`` ended in (its record: this issuance, final)."""
    from certpush.models.domain import TargetKey

    provider, service, region = target.split(":", 2)
    key = TargetKey(provider=provider, service=service, region=region)
    while True:
        record = records.get(report.certificate_id, report.version, key)
        if (
            record is not None
            and record.issuance_id == report.issuance_id
            and record.status.is_final
            and record.updated_at >= report.noted_at
        ):
            return record.status.value
        if time.monotonic() > deadline:
            raise ReplayTimeoutError(f"the replay's push of {target} ({report.certificate_id}) is not final yet")
        time.sleep(interval)
