"""`certpush dashboard`: the records API and its page on http://127.0.0.1:PORT (``certpush_cli.dashboard``),
against a stack (your AWS credentials) or a home."""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from certpush_cli.exit_codes import ExitCode, Failure, user_errors
from certpush_cli.options import HomeOption, StackOption
from certpush_cli.output import out


def dashboard(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    stack: StackOption = None,
    home: HomeOption = None,
) -> None:
    """Serve the dashboard and the records API locally until Ctrl-C (127.0.0.1 only)."""
    from certpush_cli.backends import open_backend
    from certpush_cli.dashboard import records_api_server

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
