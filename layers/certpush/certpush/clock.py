"""The wall clock: the one implementation of the ``Clock`` port (``certpush.ports``) outside the
tests, which inject their own. Standard library only, so every host and the simulator can use it
without loading a cloud SDK."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
