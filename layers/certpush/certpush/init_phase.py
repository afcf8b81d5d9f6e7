"""Python's cyclic garbage collector during a handler's init (issue 22, cold start).

A pipeline handler's init (importing its module, then building its objects: at the first invocation,
or during init under SnapStart) allocates about 130,000 objects that live as long as the
environment: modules, classes, models, the parsed service models, clients. While their number grows,
CPython runs full collections over all of them: two or three of 15-30 ms each in a validator's or push
worker's cold start, 40-60 ms in all, which is more than the bare Powertools handler's whole collection
cost. They find next to nothing: about 400 unreachable objects of 130,000 at the end of a validator's
init (``gc.collect()`` then; measured with the bench's probe, dev/certpush_dev/bench/cold_start.py).

So the collector is paused while a handler module imports (``begin`` at its top, ``end`` when the
module's init is over: ``snapstart.prime``) and while ``BuiltOnce`` builds (``paused``), never longer:
an exception in a build resumes it, and a build that is not the first runs paused only for itself. A
handler module whose import raises leaves it paused, in an environment that is then discarded (Lambda
runs a failed init again in a new one; the embedded stack and the tests stop). In a Lambda
environment, once the first build is done, what init made goes to the permanent generation
(``gc.freeze``, before the collector resumes): later collections look only at what the invocations
allocate, and the few hundred cyclic leftovers of init stay allocated for the environment's life.
Outside Lambda (the CLI, the one-machine host, the embedded stack, the tests) nothing is frozen.

The pattern is the one CPython's ``gc.freeze`` documentation gives a pre-fork server (``gc.disable()``
early, ``gc.freeze()`` once the long-lived objects are made, then ``gc.enable()``), applied to the part
of init we own: the runtime's own start-up is untouched.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.RLock()
_depth = 0
_resume = False  # whether the collector was running when the outermost pause began
_frozen = False
_freeze_wanted = False  # a build ended inside another pause: freeze when the outermost one ends
_import_paused = False


def _pause() -> None:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1


def _unpause(*, freeze: bool = False) -> None:
    global _depth, _frozen, _freeze_wanted
    with _lock:
        _depth -= 1
        _freeze_wanted = _freeze_wanted or freeze
        if _depth:
            return
        if _freeze_wanted and not _frozen and in_lambda():
            gc.freeze()
            _frozen = True
        _freeze_wanted = False
        if _resume:
            gc.enable()


def in_lambda() -> bool:
    """Whether this process is a Lambda environment (the runtime names the function in its environment)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def begin() -> None:
    """At the top of a handler module: the collector pauses for the module's imports (until ``end``)."""
    global _import_paused
    with _lock:
        if not _import_paused:
            _import_paused = True
            _pause()


def end() -> None:
    """The handler module's init is over (``snapstart.prime`` calls it): the collector resumes."""
    global _import_paused
    with _lock:
        if _import_paused:
            _import_paused = False
            _unpause()


@contextmanager
def paused() -> Iterator[None]:
    """The collector paused while a handler's objects are built; the first build in a Lambda
    environment then freezes what init made (see the module's docstring)."""
    _pause()
    try:
        yield
    except BaseException:
        _unpause()
        raise
    _unpause(freeze=True)
