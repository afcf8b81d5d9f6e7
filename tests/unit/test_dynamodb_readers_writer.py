"""The embedded stack's moto runs DynamoDB reads together and writes alone (moto_patches.py): reads
never wait for each other, a write waits for the reads under way, and reads that come after a
waiting write wait for it (so a stream of reads cannot starve the push worker's writes)."""

from __future__ import annotations

import threading
import time

import botocore.session
import pytest

from certpush_emulators.aws.moto_patches import READ_ONLY, ReadersWriterLock

pytestmark = pytest.mark.unit


def _until(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {timeout}s")
        time.sleep(0.001)


def test_readers_share_a_writer_waits_for_them_and_later_readers_wait_for_the_writer() -> None:
    lock = ReadersWriterLock()
    order: list[str] = []
    lock.acquire_read()

    second_reader = threading.Thread(
        target=lambda: (lock.acquire_read(), order.append("reader 2"), lock.release_read())
    )
    second_reader.start()
    second_reader.join(timeout=10)
    assert order == ["reader 2"]  # not kept out by the first reader

    def write() -> None:
        lock.acquire_write()
        order.append("writer")
        lock.release_write()

    writer = threading.Thread(target=write)
    writer.start()
    _until(lambda: lock._writers_waiting == 1, "waiting")
    late_reader = threading.Thread(target=lambda: (lock.acquire_read(), order.append("reader 3"), lock.release_read()))
    late_reader.start()
    _until(lambda: lock._readers_waiting == 1, "waiting")
    assert order == ["reader 2"]  # the writer waits for reader 1, reader 3 for the writer

    lock.release_read()
    writer.join(timeout=10)
    late_reader.join(timeout=10)

    assert order == ["reader 2", "writer", "reader 3"]


def test_the_read_only_actions_are_dynamodb_operations_that_read() -> None:
    operations = set(botocore.session.get_session().get_service_model("dynamodb").operation_names)

    assert operations >= READ_ONLY
    assert all(name.startswith(("Get", "BatchGet", "Query", "Scan", "Describe", "List")) for name in READ_ONLY)
