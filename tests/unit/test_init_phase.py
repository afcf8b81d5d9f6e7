"""certpush.init_phase: the cyclic collector paused while a handler's init allocates, never longer,
and what init made frozen once in a Lambda environment (issue 22, cold start)."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator

import pytest

from certpush import init_phase
from certpush.snapstart import BuiltOnce, prime


@pytest.fixture(autouse=True)
def _fresh_phase(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with the module's state as a new process has it, the collector running."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    importlib.reload(init_phase)
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()  # what a test froze goes back to the collector
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_a_build_runs_with_the_collector_paused_and_resumes_it() -> None:
    seen: list[bool] = []
    built = BuiltOnce(lambda: seen.append(gc.isenabled()))
    built()
    assert seen == [False]
    assert gc.isenabled()


def test_a_failed_build_resumes_the_collector() -> None:
    def fail() -> None:
        raise RuntimeError("the table is missing")

    with pytest.raises(RuntimeError):
        BuiltOnce(fail)()
    assert gc.isenabled()


def test_the_handler_modules_imports_pause_it_until_its_init_ends() -> None:
    init_phase.begin()
    init_phase.begin()  # a second begin is the same pause
    assert not gc.isenabled()
    inner: list[bool] = []
    BuiltOnce(lambda: inner.append(gc.isenabled()))()  # a build inside init (SnapStart's prime)
    assert inner == [False]
    assert not gc.isenabled()  # the build's end does not end the module's init
    prime()  # the last line of a handler module
    assert gc.isenabled()
    init_phase.end()  # once only
    assert gc.isenabled()


def test_it_leaves_a_collector_that_someone_else_stopped_stopped() -> None:
    gc.disable()
    init_phase.begin()
    BuiltOnce(lambda: None)()
    init_phase.end()
    assert not gc.isenabled()


def test_outside_lambda_nothing_is_frozen() -> None:
    gc.unfreeze()
    init_phase.begin()
    BuiltOnce(lambda: None)()
    init_phase.end()
    assert gc.get_freeze_count() == 0


def _frozen(thing: object) -> bool:
    """Whether the collector tracks ``thing`` in the permanent generation (``gc.get_objects`` lists the
    other three)."""
    return gc.is_tracked(thing) and not any(other is thing for other in gc.get_objects())


def test_in_lambda_the_first_build_freezes_what_init_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "certpush-validator")
    gc.unfreeze()
    made_at_init: list[list[int]] = [[1], [2]]
    init_phase.begin()
    built = BuiltOnce(lambda: {"client": [3]})
    built()
    assert not _frozen(made_at_init)  # not while the module still imports: at the end of its init
    init_phase.end()
    assert _frozen(made_at_init) and _frozen(built())
    later = BuiltOnce(lambda: {"rebuilt": [4]})  # a later build (after a reset) freezes nothing more
    assert not _frozen(later())
    assert gc.isenabled()
