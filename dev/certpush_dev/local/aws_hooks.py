"""botocore event hooks on the shared session every function's AWS clients come from
(``certpush.adapters.aws_clients``): the embedded stack records which AWS operations each function
performs and can make chosen calls fail, or land late (``LateLanding``), without touching the
functions' code.

botocore copies a session's event handlers into each client it creates, so the hooks are
registered before any function runs (``EmbeddedStack.start``)."""

from __future__ import annotations

import contextvars
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

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


@dataclass
class LateLanding:
    """The fault "the request lands after the client timed out": a chosen call is sent, its caller sees
    a ReadTimeoutError, and the cloud carries the very request out later (the signed HTTP request, sent
    again as it was, outside every hook). botocore's own retries behave as with a real timeout: a
    client that retries sends the request again at once (that one goes through).

    When it lands: ``after_seconds`` after it was sent (a timer), or just ``before`` / ``after`` the
    next call of an action (``"tagging:GetResources"``: the retry's lookup; ``"acm:ImportCertificate"``:
    the retry's own import), whichever comes first; with none of them, when ``land()`` is called.

    ``action`` as IAM-style ``service:Operation`` (the hooks' spelling), ``function`` the caller's
    logical id (None: any), ``times`` how many calls to hold, ``when`` a test on botocore's request
    dict (``params`` of ``before-call``), e.g. only imports without a CertificateArn. ``landed`` holds
    the HTTP status of each landing (poll it; never sleep)."""

    action: str
    function: str | None = "PushWorkerFunction"
    times: int = 1
    after_seconds: float | None = None
    before: str | None = None
    after: str | None = None
    when: Callable[[dict[str, Any]], bool] | None = None
    landed: list[int] = field(default_factory=list)
    _pending: list[Any] = field(default_factory=list, repr=False)
    _timers: list[threading.Timer] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def holds(self, function: str, action: str, params: dict[str, Any]) -> bool:
        """Whether this call is one to hold (counted: at most ``times``)."""
        if action != self.action or (self.function is not None and function != self.function):
            return False
        if self.when is not None and not self.when(params):
            return False
        with self._lock:
            if self.times <= 0:
                return False
            self.times -= 1
            return True

    def hold(self, request: Any) -> None:
        with self._lock:
            self._pending.append(request)
            if self.after_seconds is not None:
                timer = threading.Timer(self.after_seconds, self.land)
                timer.daemon = True
                self._timers.append(timer)
                timer.start()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def land(self) -> None:
        """Carries out every held request now."""
        with self._lock:
            requests, self._pending = self._pending, []
        for request in requests:
            response = URLLib3Session().send(request)
            with self._lock:
                self.landed.append(int(response.status_code))

    def on_call(self, action: str, *, done: bool) -> None:
        """A call of ``action`` starts (``done=False``) or ended (``done=True``): lands if it is the trigger."""
        if self.pending and action == (self.after if done else self.before):
            self.land()

    def cancel(self) -> None:
        """Stops the timers; what was held never lands."""
        with self._lock:
            timers, self._timers, self._pending = self._timers, [], []
        for timer in timers:
            timer.cancel()


# a context variable, not a thread-local: the push worker's records run on pool threads in a copy
# of the invocation's context (certpush.adapters.concurrent_batch), and their calls are its calls
_current: contextvars.ContextVar[str] = contextvars.ContextVar("certpush_local_function", default="")


# the LateLanding that holds the call under way in this context (set at before-call, taken at before-send)
_held: contextvars.ContextVar[LateLanding | None] = contextvars.ContextVar("certpush_late_landing", default=None)


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
        self.late: list[LateLanding] = []
        self._lock = threading.Lock()
        self._events: Any = None
        self._id = f"certpush-local-calls-{id(self)}"
        self._endpoint_url: str | None = None

    def install(self, session: Any, endpoint_url: str | None = None) -> None:
        """``session``: a boto3 or botocore session, before it creates the clients to observe;
        ``endpoint_url``: only calls to it are seen (a process can hold two stacks, each with its own
        moto, whose handlers share one session: one stack's guards must not judge the other's calls)."""
        self._endpoint_url = endpoint_url
        self._events = getattr(session, "events", None) or session.get_component("event_emitter")
        self._events.register("before-call", self._before_call, unique_id=self._id)
        self._events.register("after-call", self._after_call, unique_id=f"{self._id}-after")
        self._events.register("before-send", self._before_send, unique_id=f"{self._id}-send")

    def uninstall(self) -> None:
        if self._events is not None:
            self._events.unregister("before-call", unique_id=self._id)
            self._events.unregister("after-call", unique_id=f"{self._id}-after")
            self._events.unregister("before-send", unique_id=f"{self._id}-send")
            self._events = None
        with self._lock:
            late, self.late = self.late, []
        for landing in late:
            landing.cancel()

    def snapshot(self) -> Counter[tuple[str, str]]:
        """The calls so far, per (function, action), copied under the lock (other threads keep calling)."""
        with self._lock:
            return Counter(self.calls)

    @staticmethod
    def _action(model: Any) -> str:
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        return f"{service}:{model.name}"

    def _ours(self, url: object) -> bool:
        return self._endpoint_url is None or str(url).startswith(self._endpoint_url)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]] | None:
        if not self._ours(params.get("url", "")):
            return None
        params.setdefault("context", {})[self._id] = True  # seen again by _after_call
        action = self._action(model)
        function = current_function()
        with self._lock:
            self.calls[(function, action)] += 1
            faults = [*self.guards, *self.faults]
        _held.set(None)
        for fault in faults:
            error = fault(function, action, params)
            if error is not None:  # botocore raises ClientError for a short-circuit answer >= 300
                metadata = {"HTTPStatusCode": error.status, "RequestId": "local-fault"}
                return _Http(error.status), {
                    "Error": {"Code": error.code, "Message": error.message},
                    "ResponseMetadata": metadata,
                }
        with self._lock:
            late = list(self.late)
        for landing in late:
            landing.on_call(action, done=False)
        _held.set(next((landing for landing in late if landing.holds(function, action, params)), None))
        return None

    def _before_send(self, request: Any, **_: Any) -> None:
        """After signing, before the request goes out: a held call is kept for later, its caller times out."""
        landing = _held.get()
        if landing is None:
            return
        _held.set(None)  # the SDK's own retry of it goes out
        landing.hold(request)
        raise ReadTimeoutError(endpoint_url=request.url)

    def _after_call(self, model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
        if self._endpoint_url is not None and not (context or {}).get(self._id):
            return
        action = self._action(model)
        with self._lock:
            faults = list(self.after_faults)
            late = list(self.late)
        for fault in faults:
            fault(current_function(), action)
        for landing in late:
            landing.on_call(action, done=True)
