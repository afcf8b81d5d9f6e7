"""`certpush dashboard`: the records API and its page on http://127.0.0.1:PORT, through the same handler
the Function URL runs, against the embedded stack or a deployed stack (your AWS credentials)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from certpush import __version__
from certpush.errors import CertpushError
from certpush.wiring import build_dashboard
from certpush_dev.cli.stack import settings_for_stack
from certpush_dev.cli.terminal import StackOption, err, out
from certpush_dev.local.aws_hooks import InvocationScope
from certpush_dev.local.function_url import FunctionUrlServer
from certpush_dev.local.pollers import load_handler
from certpush_dev.local.provision import FunctionSpec
from certpush_dev.local.template import load_template

FUNCTION = "RecordsApiFunction"
API_DESCRIPTION = (
    "What certpush's dashboards read: certificates and the state of their pushes (the records table), "
    "push records by status, target or time, summary counts, and replays of failed targets. Deployed "
    "behind a Lambda Function URL with AWS_IAM auth (sign requests with SigV4, service 'lambda'); "
    "`certpush dashboard` serves the same handler on 127.0.0.1."
)


def _records_api_spec(template: Path, stack: str) -> FunctionSpec:
    properties = load_template(template)["Resources"][FUNCTION]["Properties"]
    return FunctionSpec(
        logical_id=FUNCTION,
        name=f"{stack}-records-api",
        code_dir=template.resolve().parent / str(properties["CodeUri"]),
        handler=str(properties["Handler"]),
        timeout=int(properties.get("Timeout", 30)),
        environment={},
    )


def openapi_document(template: Path) -> str:
    """The records API's OpenAPI document, as Powertools generates it from the routes and models."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    spec = _records_api_spec(template, "certpush")
    module = sys.modules[load_handler(spec).__module__]
    document: str = module.app.get_openapi_json_schema(
        title="certpush records API",
        version=__version__,
        description=API_DESCRIPTION,
    )
    return document + "\n"


def records_api_server(template: Path, stack: str, port: int = 0) -> FunctionUrlServer:
    """The records API handler, loaded from the template's CodeUri, served on 127.0.0.1."""
    spec = _records_api_spec(template, stack)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon on this machine
    handler = load_handler(spec)
    dashboard = build_dashboard(settings_for_stack(stack))

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with InvocationScope(spec.logical_id):  # its AWS calls count as the function's (least privilege)
            return handler(event, context, dashboard=dashboard)  # type: ignore[call-arg]

    return FunctionUrlServer(invoke, port=port, function_name=spec.name)


def dashboard(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    template: Annotated[Path, typer.Option(help="The SAM template (finds the handler).")] = Path("template.yaml"),
    stack: StackOption = "certpush",
) -> None:
    """Serve the dashboard and the records API locally until Ctrl-C (127.0.0.1 only)."""
    if not template.exists():
        err.print(f"error: {template} not found; run from the certpush checkout or pass --template")
        raise typer.Exit(1)
    try:
        server = records_api_server(template, stack, port)
    except CertpushError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    except OSError as exc:
        err.print(f"error: cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another with --port")
        raise typer.Exit(1) from exc
    out.print(f"dashboard: {server.url}/  (records API: {server.url}/certificates, /pushes, /summary)")
    server.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def openapi(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the document.")] = Path("docs/openapi.json"),
    template: Annotated[Path, typer.Option(help="The SAM template (finds the handler).")] = Path("template.yaml"),
) -> None:
    """Write the records API's OpenAPI document (generated from the handler's routes and models)."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(openapi_document(template))
    out.print(str(out_file))
