"""`certpush replay --events --since T [--until T]`: sends the archived "Certificate Issued" events of a
time window through the stack's bus again (EventBridge StartReplay), so the validator sees them anew.

A replayed event never pushes a version twice: the validator's conditional write turns a target that
already has the version into ALREADY_PUSHED (or PUSH_IN_PROGRESS), and only a FAILED one is pushed
again. moto's StartReplay ignores the time window and replays the whole archive; on the embedded
stack that is harmless for the same reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from certpush.adapters.aws_clients import aws_client
from certpush.errors import CertpushError
from certpush_cli.stack import stack_outputs

FINAL_STATES = {"COMPLETED", "CANCELLED", "FAILED"}


class EventReplayError(CertpushError):
    pass


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
            raise EventReplayError(f"replay {name} is still {state} after {timeout:.0f}s")
        time.sleep(interval)
