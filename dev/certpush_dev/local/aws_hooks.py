"""botocore event hooks on the shared session every function's AWS clients come from
(``certpush.adapters.aws_clients``): the embedded stack records which AWS operations each function
performs and can make chosen calls fail, without touching the functions' code.

botocore copies a session's event handlers into each client it creates, so the hooks are
registered before any function runs (``EmbeddedStack.start``)."""

from __future__ import annotations

import contextvars
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fault = Callable[[str, str, dict[str, Any]], "AwsError | None"]
"""(function logical id or "", "service:Operation" as IAM spells it, the request) -> raises to fail
the call, or returns the error AWS answers; None lets the call through. Runs before the request,
outside botocore's retries: what it makes is what reaches the caller once the SDK gave up."""

AfterFault = Callable[[str, str], None]
"""(function, action) -> raises *after* AWS did the work (e.g. the connection dropped on the way back)."""


@dataclass(frozen=True)
class AwsError:
    code: str
    status: int
    message: str = "injected by the embedded stack"


@dataclass(frozen=True)
class _Http:
    status_code: int


# a context variable, not a thread-local: the push worker's records run on pool threads in a copy
# of the invocation's context (certpush.adapters.concurrent_batch), and their calls are its calls
_current: contextvars.ContextVar[str] = contextvars.ContextVar("certpush_local_function", default="")


def current_function() -> str:
    return _current.get()


class InvocationScope:
    """Marks the calls made in this context (this thread, and the pool threads it hands records to)
    as the given function's (the Invoker wraps each run)."""

    def __init__(self, function: str) -> None:
        self._function = function

    def __enter__(self) -> None:
        self._token = _current.set(self._function)

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._token)


class AwsCallHooks:
    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        # what IAM would refuse (certpush_dev.local.iam_conditions): checked before any fault, and kept
        # when a test clears its faults
        self.guards: list[Fault] = []
        self.faults: list[Fault] = []
        self.after_faults: list[AfterFault] = []
        self._lock = threading.Lock()
        self._events: Any = None
        self._id = f"certpush-local-calls-{id(self)}"

    def install(self, session: Any) -> None:
        """``session``: a boto3 or botocore session, before it creates the clients to observe."""
        self._events = getattr(session, "events", None) or session.get_component("event_emitter")
        self._events.register("before-call", self._before_call, unique_id=self._id)
        self._events.register("after-call", self._after_call, unique_id=f"{self._id}-after")

    def uninstall(self) -> None:
        if self._events is not None:
            self._events.unregister("before-call", unique_id=self._id)
            self._events.unregister("after-call", unique_id=f"{self._id}-after")
            self._events = None

    @staticmethod
    def _action(model: Any) -> str:
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        return f"{service}:{model.name}"

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]] | None:
        action = self._action(model)
        function = current_function()
        with self._lock:
            self.calls[(function, action)] += 1
            faults = [*self.guards, *self.faults]
        for fault in faults:
            error = fault(function, action, params)
            if error is not None:  # botocore raises ClientError for a short-circuit answer >= 300
                metadata = {"HTTPStatusCode": error.status, "RequestId": "local-fault"}
                return _Http(error.status), {
                    "Error": {"Code": error.code, "Message": error.message},
                    "ResponseMetadata": metadata,
                }
        return None

    def _after_call(self, model: Any, **_: Any) -> None:
        action = self._action(model)
        with self._lock:
            faults = list(self.after_faults)
        for fault in faults:
            fault(current_function(), action)

    def actions_of(self, function: str) -> set[str]:
        with self._lock:
            return {action for (who, action) in self.calls if who == function}
