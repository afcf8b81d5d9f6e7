"""The handlers' built objects, and what Lambda SnapStart asks of them (template.yaml parameter
``SnapStart``: ``PublishedVersions`` turns it on for the pipeline functions).

With SnapStart, Lambda runs a function's init once, snapshots the memory of the environment, and
starts every later environment from that snapshot. Whatever init made is then shared by all of
them, so what must be unique or fresh per environment is made again after a restore ("Handling
uniqueness with Lambda SnapStart", "Lambda SnapStart runtime hooks for Python",
https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html):

- random state: ``random.seed()`` from the OS (``secrets`` and ``uuid.uuid4`` read os.urandom and need
  nothing);
- AWS clients: a new shared boto3 session (credential resolver, clients and their pooled connections
  made anew; ``aws_clients.renew_shared_session``), the parsed service models kept;
- every handler's built objects (``BuiltOnce``: the Huawei Cloud HTTP client and its connections, the
  cached IAM answers and credentials, the material cache), built again at the first invocation.

``after_restore`` is registered with ``snapshot_restore_py`` (part of Lambda's Python managed runtimes;
``register_after_restore``), which runs it in each restored environment. During a SnapStart init
(``AWS_LAMBDA_INITIALIZATION_TYPE`` is ``snap-start``) a handler builds its objects at once
(``prime``), so the snapshot holds the imports and the loaded service models, not just the imports.

The push worker builds its targets when a push first asks for one (``wiring.TargetsOnDemand``); during a
SnapStart init it builds them all, so that the snapshot holds their modules (the objects themselves go
with the restore, as every built object does).

``BuiltOnce`` also builds once when the first invocations start together (the embedded stack's pollers
run them on threads): a ``functools.cache`` let each of them build its own, and each asked Huawei IAM
again for the project ids (issue 22, item 4)."""

from __future__ import annotations

import os
import random
import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from certpush import init_phase

T = TypeVar("T")

_BUILT: weakref.WeakSet[BuiltOnce[object]] = weakref.WeakSet()


class BuiltOnce(Generic[T]):
    """``built = BuiltOnce(make)``; ``built()`` is ``make()``'s object, made on the first call (once,
    whatever the number of threads asking), and made again after ``reset()`` or a SnapStart restore."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: T | None = None
        self._built = False
        _BUILT.add(self)  # type: ignore[arg-type]

    def __call__(self) -> T:
        if self._built:
            return self._value  # type: ignore[return-value]
        with self._lock:
            if not self._built:
                with init_phase.paused():  # no cyclic collection over what init makes (certpush.init_phase)
                    self._value = self._make()
                self._built = True
        return self._value

    @property
    def built(self) -> bool:
        return self._built

    def reset(self) -> None:
        with self._lock:
            self._value, self._built = None, False


def snapstart_init() -> bool:
    """Whether this init will be snapshotted (Lambda sets this variable to ``snap-start`` then)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


_priming = threading.local()


def snapshotting() -> bool:
    """Whether what is being built goes into a SnapStart snapshot (``prime`` is building it)."""
    return bool(getattr(_priming, "on", False))


def prime(*built: BuiltOnce[object]) -> None:
    """Builds the given objects now when this init is a SnapStart one (else at the first invocation).
    Called last in a handler module: its init is over, the collector resumes (``init_phase.end``)."""
    try:
        if snapstart_init():
            _priming.on = True
            try:
                for each in built:
                    each()
            finally:
                _priming.on = False
    finally:
        init_phase.end()


def after_restore() -> None:
    """What each environment restored from a snapshot makes anew (see the module's docstring)."""
    from certpush.adapters.aws_clients import renew_shared_session

    random.seed()
    renew_shared_session()
    for built in list(_BUILT):
        built.reset()


def register_hooks() -> bool:
    """Registers ``after_restore`` with the runtime's SnapStart hooks; False where the library is
    absent (not a Lambda Python runtime: the tests and the one-machine host install it or not)."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    from snapshot_restore_py import get_after_restore

    if not any(entry[0] is after_restore for entry in get_after_restore()):
        register_after_restore(after_restore)
    return True


register_hooks()
