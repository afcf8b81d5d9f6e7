"""One ``certpush serve`` per home: it holds an exclusive lock (``flock``) on the home's serve.lock for
as long as it runs. The kernel releases the lock when the process ends, however it ends (kill -9
included), so a stale lock never blocks a restart. Other commands look at the lock to know whether a
serve will take their pushes up."""

from __future__ import annotations

import fcntl
import os
from typing import IO

from certpush.errors import ConfigurationError
from certpush_cli.host.home import Home


def acquire(home: Home) -> IO[str]:
    """Holds the home's serve lock until the returned file is closed (or the process ends)."""
    handle = home.lock_file.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise ConfigurationError(
            f"another certpush serve runs on {home.path} (pid {holder}); hint: stop it, or give another --home"
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def serve_pid(home: Home) -> int | None:
    """The pid of the serve that holds the lock, or None when no serve runs on the home."""
    if not home.lock_file.exists():
        return None
    with home.lock_file.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
