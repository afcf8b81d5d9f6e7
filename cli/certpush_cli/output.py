"""What every command prints and where: results to stdout, progress and errors to stderr (so that
``--json`` output pipes cleanly), and push records as lines, a table or JSON.

Light on purpose: ``certpush --help`` imports this module; rich is imported when a command first
prints."""

from __future__ import annotations

import json
from datetime import UTC
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from certpush.models.domain import PushRecord


class _Console:
    """A rich Console made on first use (importing rich costs a fifth of the CLI's start)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def real(self) -> Console:
        """The Console itself (to hand to rich, e.g. a progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


# no markup: ids, names and messages print as they are (a pattern like ``[a-z0-9-]`` is not a style)
out: Any = _Console(highlight=False, soft_wrap=True, markup=False)
err: Any = _Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


def record_json(record: PushRecord) -> dict[str, Any]:
    from certpush.providers.registry import hint_for

    return {
        "certificate_id": record.certificate_id,
        "version": record.version,
        "provider": record.provider,
        "service": record.service,
        "region": record.region,
        "status": record.status.value,
        "reason": record.reason,
        "message": record.message,
        "hint": hint_for(record.provider, record.reason) if _needs_action(record) else None,
        "target_id": record.target_id,
        "console_url": record.console_url,
        "attempts": record.attempts,
        "duration_ms": record.duration_ms,
        "issuance_id": record.issuance_id,
        "forced": record.forced,
        "rollback": record.rollback,
        "upload_action": record.upload_action.value if record.upload_action else None,
        "attached": list(record.attached),
        "replaced_by": record.replaced_by,
        "updated_at": record.updated_at.isoformat(),
    }


_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "REJECTED": "yellow", "PENDING": "cyan", "IN_PROGRESS": "cyan",
          "RETRACTED": "magenta", "SUPERSEDED": "blue", "REPLACED": "dim", "ATTACH_FAILED": "dark_orange"}  # fmt: skip


_NOTHING_TO_DO = ("ALREADY_PUSHED", "PUSH_IN_PROGRESS")  # REJECTED, but nothing for the operator to do


def _needs_action(record: PushRecord) -> bool:
    return record.status.value in ("FAILED", "ATTACH_FAILED", "REJECTED")


def _status_text(record: PushRecord) -> str:
    """The status with what qualifies it: forced, a rollback, by which version it was replaced."""
    marks = [m for m, on in (("forced", record.forced), ("rollback", record.rollback)) if on]
    if record.replaced_by is not None:
        marks.append(f"by v{record.replaced_by}")
    return record.status.value + (f" ({', '.join(marks)})" if marks else "")


def _detail(record: PushRecord) -> str:
    """The console link of a success, else what happened (a SUPERSEDED push says which version is there)."""
    if record.status.value == "SUCCEEDED":
        return record.console_url or ""
    return f"{record.reason or ''}: {record.message or ''}".strip(": ")


def _hints(records: list[PushRecord]) -> list[str]:
    """One line per reason that needs the operator (``certpush.logic.hints``), in the order met."""
    from certpush.providers.registry import hint_for

    seen: dict[str, str] = {}
    for record in records:
        if record.reason in _NOTHING_TO_DO:
            continue
        hint = hint_for(record.provider, record.reason) if _needs_action(record) else None
        if hint and record.reason and record.reason not in seen:
            seen[record.reason] = hint
    return [f"hint: {reason}: {hint}" for reason, hint in seen.items()]


def print_records(
    records: list[PushRecord], title: str, as_json: bool = False, *, with_certificate: bool = False
) -> None:
    """The records, one line (or table row) each, then a hint per reason that needs the operator.
    ``with_certificate``: the records are of several certificates (each line names its own)."""
    if as_json:
        out.print_json(json.dumps([record_json(r) for r in records]))
        return
    if not records:
        out.print(f"{title}: no push records")
        return
    if not out.is_terminal:
        # one line per record, for logs and pipes: [certificate] provider service region status link-or-reason
        width = max(4, *(len(r.service) for r in records))
        named = max(len(r.certificate_id) for r in records)
        for r in records:
            certificate = f"{r.certificate_id:<{named}} " if with_certificate else ""
            service = r.service.ljust(width)
            out.print(
                f"{certificate}{r.provider:<12} {service} {r.region:<16} v{r.version:<3} {_status_text(r):<11} "
                f"{_detail(r)}"
            )
    else:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title)
        columns = ["provider", "service", "region", "version", "status", "attempts", "console link / reason"]
        for column in (["certificate"] if with_certificate else []) + [*columns, "updated (UTC)"]:
            table.add_column(column)
        for r in records:
            table.add_row(
                *([r.certificate_id] if with_certificate else []),
                r.provider, r.service, r.region, str(r.version),
                Text(_status_text(r), style=_STYLE[r.status.value]),
                str(r.attempts), _detail(r), r.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            )  # fmt: skip
        out.print(table)
    for line in _hints(records):
        out.print(line)


def sort_records(records: list[PushRecord]) -> list[PushRecord]:
    return sorted(records, key=lambda r: (-r.version, r.provider, r.service, r.region))


def names(sans: list[str]) -> str:
    return f"SANs {', '.join(sans)}" if sans else "no SANs"
