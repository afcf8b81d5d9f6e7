"""A Powertools ``BatchProcessor`` (with our failure logging) that runs the records of one batch at
the same time.

Pushes wait on the network (ACM, Huawei Cloud): ten records in a batch pushed one after another
take the sum of their latencies, pushed together about the longest one. Powertools offers
``AsyncBatchProcessor`` for coroutines; our adapters are synchronous (botocore, httpx.Client), so
this processor keeps Powertools' record handling (parsing, success/failure bookkeeping, partial
batch response) and only replaces ``process`` with a bounded thread pool.

Thread safety: ``success_handler`` / ``failure_handler`` append to lists (atomic in CPython); boto3
clients and ``httpx.Client`` may be shared by threads (clients are created under a lock, see
``certpush.adapters.aws_clients``)."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from certpush.adapters.batch_logging import LoggedBatchProcessor


class ConcurrentBatchProcessor(LoggedBatchProcessor):
    def __init__(self, *args: Any, max_workers: int = 10, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_workers = max(1, max_workers)

    def process(self) -> list[tuple[Any, ...]]:
        workers = min(self.max_workers, len(self.records))
        if workers <= 1:
            return super().process()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record") as pool:
            # each record runs in a copy of the invocation's context (context variables), as it
            # would inline: a pool thread starts with an empty one
            contexts = [contextvars.copy_context() for _ in self.records]
            runs = pool.map(lambda ctx, record: ctx.run(self._process_record, record), contexts, self.records)
            results = list(runs)  # in the order of the batch
        # the handlers appended as the records finished: report them in the order they came
        self.success_messages[:] = [entry[2] for entry in results if entry[0] == "success"]
        self.fail_messages[:] = [entry[2] for entry in results if entry[0] == "fail"]
        return results
