"""`certpush dashboard`: the records API and its page on http://127.0.0.1:PORT, through the same handler
the Function URL runs, against the embedded stack or a deployed stack (your AWS credentials)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from certpush.errors import CertpushError
from certpush.wiring import build_dashboard
from certpush_dev.cli.stack import settings_for_stack
from certpush_dev.cli.terminal import StackOption, err, out
from certpush_dev.local.function_url import FunctionUrlServer
from certpush_dev.local.pollers import load_handler
from certpush_dev.local.provision import FunctionSpec
from certpush_dev.local.template import load_template

FUNCTION = "RecordsApiFunction"


def records_api_server(template: Path, stack: str, port: int = 0) -> FunctionUrlServer:
    """The records API handler, loaded from the template's CodeUri, served on 127.0.0.1."""
    properties = load_template(template)["Resources"][FUNCTION]["Properties"]
    spec = FunctionSpec(
        logical_id=FUNCTION,
        name=f"{stack}-records-api",
        code_dir=template.resolve().parent / str(properties["CodeUri"]),
        handler=str(properties["Handler"]),
        timeout=int(properties.get("Timeout", 30)),
        environment={},
    )
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon on this machine
    handler = load_handler(spec)
    dashboard = build_dashboard(settings_for_stack(stack))

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
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
