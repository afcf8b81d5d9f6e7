"""Running independent calls at the same time, each in a copy of the caller's context.

The adapters are synchronous (botocore, httpx.Client), and their calls wait on the network: a
thread pool overlaps them. Each call runs in a copy of the caller's context variables, as it would
inline (a pool thread starts with an empty context: Powertools' logger keys, and the embedded
stack's note of which function is calling, live there)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_concurrently(call: Callable[[T], R], items: Sequence[T], max_workers: int, name: str = "call") -> list[R]:
    """``[call(item) for item in items]``, at most ``max_workers`` at once, results in the items'
    order. The first exception (in that order) is raised once every call has ended."""
    workers = min(max_workers, len(items))
    if workers <= 1:
        return [call(item) for item in items]
    contexts = [contextvars.copy_context() for _ in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        futures = [pool.submit(context.run, call, item) for context, item in zip(contexts, items, strict=True)]
    return [future.result() for future in futures]
