"""The one-machine host's database: one SQLite file (standard library ``sqlite3``) in the home.

- WAL journal: readers never wait for the writer, and a reader sees the last committed state.
- Writes go through ``transaction()``: ``BEGIN IMMEDIATE`` takes the write lock at the start (a
  deferred transaction that upgrades later can fail with SQLITE_BUSY without waiting), SQLite's busy
  handler waits up to ``busy_timeout`` for it, and the start is retried a bounded number of times on
  top, so "database is locked" never reaches a user while another process writes.
- A unit of work: a transaction opened on a thread is joined by every adapter that writes on that
  thread (they share the thread's connection), so e.g. a push's PENDING record and its queue message
  commit together or not at all. Nested ``transaction()`` blocks join the outermost one.
- ``synchronous=FULL``: a committed transaction survives a power cut, not only a killed process.
- The schema is versioned with ``PRAGMA user_version`` (``schema.py``); an older file is migrated
  when the host opens it, a newer one is refused.

Connections are per thread (``sqlite3`` objects must not cross threads) and per process: a process
forked after opening the database opens its own (the parent's handles are never used in the child)."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from certpush.errors import TransientDependencyError
from certpush_cli.host.schema import migrate

BUSY_TIMEOUT_SECONDS = 30.0
BEGIN_ATTEMPTS = 5


class _Connection(sqlite3.Connection):
    """A connection that can be referenced weakly: the database tracks the ones it opened without
    keeping those of finished threads (a request thread of the dashboard's server) alive."""


class _ThreadState(threading.local):
    connection: sqlite3.Connection | None = None
    pid: int = 0
    depth: int = 0


# Connections a forked child inherited from its parent: never used, and never closed either (closing
# the child's copy of a descriptor would drop the POSIX locks the child's own connection holds on the
# same file, as closing any descriptor of a file does: https://www.sqlite.org/howtocorrupt.html 2.2)
_INHERITED: list[sqlite3.Connection] = []


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc) or "busy" in str(exc)


class Database:
    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._local = _ThreadState()
        self._opened: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._opened_lock = threading.Lock()
        if not path.exists():  # SQLite gives its -wal and -shm files the database file's mode
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self.transaction() as connection:
            migrate(connection)

    # -- connections -----------------------------------------------------------------------------
    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one in a forked child: the parent's are left alone)."""
        local = self._local
        if local.connection is not None and local.pid != os.getpid():
            _INHERITED.append(local.connection)
            local.connection = None
        if local.connection is None:
            connection = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            local.connection, local.pid, local.depth = connection, os.getpid(), 0
            with self._opened_lock:
                self._opened.add(connection)
        return local.connection

    def close(self) -> None:
        """Closes the connections this process opened (threads that still run open new ones)."""
        with self._opened_lock:
            opened, self._opened = list(self._opened), weakref.WeakSet()
        for connection in opened:
            try:
                connection.close()
            except sqlite3.ProgrammingError:  # made in another thread; it goes with the process
                continue
        self._local = _ThreadState()

    # -- transactions ----------------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._local.connection is not None and self._local.pid == os.getpid() and self._local.depth > 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on this thread, or the one already open here (joined)."""
        connection = self.connection()
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield connection
            finally:
                local.depth -= 1
            return
        self._begin(connection)
        local.depth = 1
        try:
            yield connection
        except BaseException:
            local.depth = 0
            if connection.in_transaction:
                connection.rollback()
            raise
        local.depth = 0
        try:
            connection.commit()
        except sqlite3.OperationalError as exc:
            if connection.in_transaction:
                connection.rollback()
            raise TransientDependencyError("SQLITE_COMMIT", f"{self.path.name}: {exc}") from exc

    def _begin(self, connection: sqlite3.Connection) -> None:
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == BEGIN_ATTEMPTS:
                    raise TransientDependencyError(
                        "SQLITE_BUSY",
                        f"{self.path} stayed locked by another process for {BEGIN_ATTEMPTS} x "
                        f"{self._busy_timeout:.0f}s; try again",
                    ) from exc
                time.sleep(random.uniform(0.01, 0.1) * attempt)  # noqa: S311 - spreading retries, not security

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Several reads that see one committed state (inside a write transaction: that one)."""
        connection = self.connection()
        if self.in_transaction or connection.in_transaction:
            yield connection
            return
        connection.execute("BEGIN DEFERRED")
        try:
            yield connection
        finally:
            connection.rollback()
