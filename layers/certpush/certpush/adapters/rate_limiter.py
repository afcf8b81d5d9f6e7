"""The in-process ``RateLimiter``: one budget per (API group, region), shared by every thread of the process.

A budget is a sliding window, as an API gateway counts (Huawei Cloud's flow control: "the maximum number of
calls made to a single API within a specified time window"): a call goes when fewer than ``calls`` were sent
within the last ``per_seconds``. Each caller reserves its slot under the lock, then sleeps outside it, so
threads are served in arrival order and never more than the quota is ever scheduled. The window is widened
by ``margin`` (a share of it, plus ``margin_seconds``): two requests sent a window apart may arrive less
than a window apart when the first met a slower network.

One machine (the host): the quotas as declared. On AWS each Lambda environment runs one of these with
its share of the account's quota (``QuotaTable(share=1/N)``, N the push queue's ``MaximumConcurrency``):
see ``certpush.wiring.rate_limiter`` for why."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from certpush.logic.rate_limits import QuotaTable, RateKey


class _Budget:
    def __init__(self, calls: int) -> None:
        self.sent: deque[float] = deque(maxlen=calls)
        self.blocked_until = 0.0


class WindowRateLimiter:
    def __init__(
        self,
        quotas: QuotaTable,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.05,
        margin_seconds: float = 0.1,
    ) -> None:
        self.quotas = quotas
        self._monotonic = monotonic
        self._sleep = sleep
        self._margin = margin
        self._margin_seconds = margin_seconds
        self._budgets: dict[RateKey, _Budget] = {}
        self._lock = threading.Lock()
        self.waited: dict[RateKey, float] = {}
        """Seconds callers spent waiting, per budget (for the bench and the logs)."""
        self.sent: dict[RateKey, int] = {}
        """Requests let through, per budget (each HTTP attempt counts: the quota counts them so)."""
        self.held_off: dict[RateKey, int] = {}
        """Throttled answers that held a budget off (the target refused what the pacing let through)."""

    def acquire(self, provider: str, service: str, operation: str | None, region: str) -> float:
        found = self.quotas.find(provider, service, operation, region)
        if found is None:
            return 0.0
        key, quota = found
        window = quota.per_seconds * (1 + self._margin) + self._margin_seconds
        with self._lock:
            budget = self._budgets.setdefault(key, _Budget(quota.calls))
            now = self._monotonic()
            slot = max(now, budget.blocked_until)
            if len(budget.sent) == quota.calls:
                slot = max(slot, budget.sent[0] + window)
            budget.sent.append(slot)  # the oldest leaves the window (maxlen)
            self.sent[key] = self.sent.get(key, 0) + 1
            wait = slot - now
            if wait > 0:
                self.waited[key] = self.waited.get(key, 0.0) + wait
        if wait > 0:
            self._sleep(wait)
        return max(0.0, wait)

    def hold_off(self, provider: str, service: str, operation: str | None, region: str, seconds: float) -> None:
        found = self.quotas.find(provider, service, operation, region)
        if found is None or seconds <= 0:
            return
        key, quota = found
        with self._lock:
            budget = self._budgets.setdefault(key, _Budget(quota.calls))
            budget.blocked_until = max(budget.blocked_until, self._monotonic() + seconds)
            self.held_off[key] = self.held_off.get(key, 0) + 1
