"""`certpush dashboard`: the records API and its page on http://127.0.0.1:PORT, through the same routes
the Function URL serves (``certpush.records_api``), against a stack (your AWS credentials) or a home
(``certpush serve`` serves the same on its own)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from certpush_cli.options import HomeOption, StackOption
from certpush_cli.terminal import ExitCode, Failure, out, user_errors

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


def dashboard(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Serve the dashboard and the records API locally until Ctrl-C (127.0.0.1 only)."""
    from certpush_cli.backends import open_backend

    with user_errors():
        chosen = open_backend(stack, home)
        try:
            server = records_api_server(chosen.dashboard(), port, name=f"{stack or 'home'}-records-api")
        except OSError as exc:
            raise Failure(
                f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another with --port", ExitCode.UNREACHABLE
            ) from exc
    # the token in the address is this run's: the page sends it, and nothing changes without it
    out.print(f"dashboard: {server.page_url}  (records API: {server.url}/certificates, /pushes, /summary)")
    server.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        chosen.close()


def openapi(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the document.")] = Path("docs/openapi.json"),
) -> None:
    """Write the records API's OpenAPI document (generated from its routes and models)."""
    with user_errors():
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(openapi_document())
    out.print(str(out_file))
