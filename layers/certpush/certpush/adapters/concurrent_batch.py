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

from typing import Any

from certpush.adapters.batch_logging import LoggedBatchProcessor
from certpush.adapters.concurrency import run_concurrently


class ConcurrentBatchProcessor(LoggedBatchProcessor):
    def __init__(self, *args: Any, max_workers: int = 10, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_workers = max(1, max_workers)

    def process(self) -> list[tuple[Any, ...]]:
        results = run_concurrently(self._process_record, self.records, self.max_workers, name="record")
        # the handlers appended as the records finished: report them in the order they came
        self.success_messages[:] = [entry[2] for entry in results if entry[0] == "success"]
        self.fail_messages[:] = [entry[2] for entry in results if entry[0] == "fail"]
        return results
