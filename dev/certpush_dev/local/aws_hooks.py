"""botocore event hooks on the shared session every function's AWS clients come from
(``certpush.adapters.aws_clients``): the embedded stack records which AWS operations each function
performs and can make chosen calls fail, without touching the functions' code.

botocore copies a session's event handlers into each client it creates, so the hooks are
registered before any function runs (``EmbeddedStack.start``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

Fault = Callable[[str, str, dict[str, Any]], None]
"""(function logical id or "", "service:Operation" as IAM spells it, params) -> raises to fail the call."""

_current = threading.local()


def current_function() -> str:
    return str(getattr(_current, "function", ""))


class InvocationScope:
    """Marks the calls made on this thread as the given function's (the Invoker wraps each run)."""

    def __init__(self, function: str) -> None:
        self._function = function

    def __enter__(self) -> None:
        self._saved = current_function()
        _current.function = self._function

    def __exit__(self, *exc: object) -> None:
        _current.function = self._saved


class AwsCallHooks:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._events: Any = None
        self._id = f"certpush-local-calls-{id(self)}"

    def install(self, session: Any) -> None:
        """``session``: a boto3 or botocore session, before it creates the clients to observe."""
        self._events = getattr(session, "events", None) or session.get_component("event_emitter")
        self._events.register("before-call", self._before_call, unique_id=self._id)

    def uninstall(self) -> None:
        if self._events is not None:
            self._events.unregister("before-call", unique_id=self._id)
            self._events = None

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        action = f"{service}:{model.name}"
        function = current_function()
        with self._lock:
            self.calls[(function, action)] += 1
            faults = list(self.faults)
        for fault in faults:
            fault(function, action, params)

    def actions_of(self, function: str) -> set[str]:
        with self._lock:
            return {action for (who, action) in self.calls if who == function}
