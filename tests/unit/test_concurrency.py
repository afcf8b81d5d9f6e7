"""run_concurrently: calls overlap, results keep the items' order, context and errors carry over."""

from __future__ import annotations

import contextvars
import threading

import pytest

from certpush.adapters.concurrency import run_concurrently

pytestmark = pytest.mark.unit

CALLER = contextvars.ContextVar("caller", default="nobody")


def test_calls_overlap_and_results_keep_the_order() -> None:
    everyone_in = threading.Barrier(4, timeout=10)  # passes only when four calls run at once

    def call(item: int) -> int:
        everyone_in.wait()
        return item * 10

    assert run_concurrently(call, [3, 1, 2, 0], max_workers=4) == [30, 10, 20, 0]


def test_each_call_sees_the_caller_s_context() -> None:
    CALLER.set("PushWorkerFunction")

    seen = run_concurrently(lambda _: (CALLER.get(), threading.current_thread().name), range(3), max_workers=3)

    assert {caller for caller, _ in seen} == {"PushWorkerFunction"}
    assert all(name != threading.current_thread().name for _, name in seen)


def test_the_first_error_is_raised_after_every_call_ended() -> None:
    ended: list[int] = []

    def call(item: int) -> int:
        if item == 1:
            raise ValueError("one")
        ended.append(item)
        return item

    with pytest.raises(ValueError, match="one"):
        run_concurrently(call, [0, 1, 2, 3], max_workers=2)
    assert sorted(ended) == [0, 2, 3]


def test_one_worker_runs_inline() -> None:
    assert (
        run_concurrently(lambda _: threading.current_thread().name, [1, 2], max_workers=1)
        == [threading.current_thread().name] * 2
    )
