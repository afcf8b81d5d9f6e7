"""Which process holds a lease, and whether it still runs.

Several processes share a home (``certpush serve``, a ``push --wait`` driving its own pushes, an
ACME hook's import): each claim they make (a push's lease, a received queue message, a webhook
delivery under way) names its process, ``host:pid:start time``. A claim whose process is gone (killed,
crashed) is handed back at once instead of waiting for its timeout. The start time (Linux
``/proc/PID/stat``, field 22) tells a recycled pid from the original process; where it cannot be
read, a pid that exists counts as alive. A claim made on another machine is never judged here (the
home is meant for one machine: SQLite on a network filesystem is unsafe anyway)."""

from __future__ import annotations

import os
import socket
from functools import cache


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state first); empty where unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _start_time(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else "0"


@cache
def _identity(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def process_identity() -> str:
    """This process (computed again after a fork: the child is another process)."""
    return _identity(os.getpid())


def is_alive(identity: str) -> bool:
    try:
        host, pid_text, started = identity.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return True  # not ours to judge
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process with that pid
    fields = _stat(pid)
    if fields[:1] in (["Z"], ["X"]):  # killed, not yet reaped by its parent
        return False
    current = fields[19] if len(fields) > 19 else "0"
    return current == "0" or started == "0" or current == started
