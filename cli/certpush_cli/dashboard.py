"""The records API and its page on http://127.0.0.1:PORT, through the same routes
the Function URL serves (``certpush.records_api``), against a stack (your AWS credentials) or a home
(``certpush serve`` serves the same on its own)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from certpush.logic.dashboard import Dashboard
    from certpush_cli.function_url import FunctionUrlServer

API_DESCRIPTION = (
    "What certpush's dashboards read: certificates and the state of their pushes (the records table), "
    "push records by status, target or time, summary counts, and replays of failed targets. Deployed "
    "behind a Lambda Function URL with AWS_IAM auth (sign requests with SigV4, service 'lambda'); "
    "`certpush dashboard` serves the same routes on 127.0.0.1."
)


def openapi_document() -> str:
    """The records API's OpenAPI document, as Powertools generates it from the routes and models."""
    from certpush import __version__
    from certpush.records_api import app

    document: str = app.get_openapi_json_schema(
        title="certpush records API",
        version=__version__,
        description=API_DESCRIPTION,
    )
    return document + "\n"


def records_api_server(
    dashboard: Dashboard,
    port: int = 0,
    name: str = "records-api",
    scope: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> FunctionUrlServer:
    """The records API on 127.0.0.1, answering with ``dashboard``. ``scope`` wraps each request (the
    tests count its AWS calls as the records API function's)."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon on this machine
    from certpush.records_api import resolve
    from certpush_cli.function_url import FunctionUrlServer

    # one request at a time, as a Lambda execution environment takes one invocation at a time: the
    # Powertools resolver keeps each request's route in the app's shared context (two at once: KeyError
    # '_route_args', a 500 when the page asks for the summary and the list together)
    one_at_a_time = threading.Lock()

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with one_at_a_time, scope():
            return resolve(event, context, dashboard)

    return FunctionUrlServer(invoke, port=port, function_name=name)


def stack_records_api_server(stack: str, port: int = 0, **options: Any) -> FunctionUrlServer:
    from certpush.wiring import build_dashboard  # boto3: only a stack's dashboard pays for it
    from certpush_cli.stack import settings_for_stack

    return records_api_server(build_dashboard(settings_for_stack(stack)), port, name=f"{stack}-records-api", **options)
