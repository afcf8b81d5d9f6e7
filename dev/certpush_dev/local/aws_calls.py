"""Counts (and optionally slows down) the AWS API calls the handlers make, with botocore's event
hooks: ``before-call.<service>.<operation>`` sees every call a client makes, retries excluded
(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/events.html).

The handlers' clients come from one shared session (``certpush.adapters.aws_clients``); a hook
registered on it before the stack starts sees every client the handlers create. The embedded
stack's pollers (Lambda's own ReceiveMessage / DeleteMessageBatch) use a session of their own and
are not counted: they are not calls certpush makes. Nor are calls made on the main thread, where
the CLI and the tests run (the handlers run on the pollers' threads).

Target APIs (``acm``, ``elbv2``, the tagging API used to find a pushed certificate) are the push
itself; everything else is control plane."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import boto3

TARGET_SERVICES = frozenset({"acm", "elasticloadbalancing", "elbv2", "tagging"})


class AwsCallCounter:
    def __init__(self, delays_ms: Mapping[str, float] | None = None, default_delay_ms: float = 0.0) -> None:
        self.calls: Counter[str] = Counter()
        self.events_put = 0  # entries sent with PutEvents (several per call)
        self._lock = threading.Lock()
        self._delays = dict(delays_ms or {})
        self._default_delay = default_delay_ms

    def slow_down(self, delays_ms: Mapping[str, float], default_delay_ms: float = 0.0) -> None:
        """Per service (endpoint prefix) latency added to each call from now on."""
        self._delays, self._default_delay = dict(delays_ms), default_delay_ms

    def install(self, session: boto3.Session) -> AwsCallCounter:
        session.events.register("before-call", self._before_call)
        session.events.register("before-parameter-build.events.PutEvents", self._put_events)
        return self

    def uninstall(self, session: boto3.Session) -> None:
        session.events.unregister("before-call", self._before_call)
        session.events.unregister("before-parameter-build.events.PutEvents", self._put_events)

    def _put_events(self, params: dict[str, Any], **_: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            with self._lock:
                self.events_put += len(params.get("Entries", []))

    def _before_call(self, model: Any, **_: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            return
        service = model.service_model.endpoint_prefix
        with self._lock:
            self.calls[f"{service}.{model.name}"] += 1
        delay = self._delays.get(service, self._default_delay)
        if delay:
            time.sleep(delay / 1000)  # a network round trip, simulated: the call waits as a real one would

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.calls)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.events_put = 0

    @staticmethod
    def control_plane(calls: Mapping[str, int]) -> dict[str, int]:
        return {op: n for op, n in sorted(calls.items()) if op.split(".", 1)[0] not in TARGET_SERVICES}


def install_on_handlers_session(counter: AwsCallCounter) -> AwsCallCounter:
    """Hooks the session every certpush handler in this process creates its clients from."""
    from certpush.adapters.aws_clients import shared_session

    return counter.install(shared_session())


def uninstall_from_handlers_session(counter: AwsCallCounter) -> None:
    from certpush.adapters.aws_clients import shared_session

    counter.uninstall(shared_session())
