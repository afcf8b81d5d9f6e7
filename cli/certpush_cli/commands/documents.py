"""Commands that write documents and samples, with no certpush to talk to: `certpush openapi` (the
records API's OpenAPI document), `certpush schemas` (the events' JSON Schemas) and `certpush
sample-certificate` (a throw-away certificate to try certpush with)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from certpush_cli.exit_codes import user_errors
from certpush_cli.output import out


def openapi(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the document.")] = Path("docs/openapi.json"),
) -> None:
    """Write the records API's OpenAPI document (generated from its routes and models)."""
    from certpush_cli.dashboard import openapi_document

    with user_errors():
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(openapi_document())
    out.print(str(out_file))


def sample_certificate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the PEM files.")],
    domain: Annotated[str, typer.Option(help="Common name.")] = "demo.example.com",
    san: Annotated[list[str] | None, typer.Option("--san", help="Subject alternative names (repeatable).")] = None,
    days: Annotated[int, typer.Option(help="Validity in days.")] = 90,
) -> None:
    """Generate a sample certificate, its chain and its key (a throw-away CA: for trying certpush out)."""
    from certpush_cli.sample_certificates import make_certificate

    with user_errors():
        paths = make_certificate(domain, sans=san or [domain, f"www.{domain}"], days=days).write(out_dir)
    for kind, path in paths.items():
        out.print(f"{kind}: {path}")


def schemas(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the JSON Schemas.")] = Path("events/schemas"),
) -> None:
    """Write the JSON Schemas of the events certpush reads and emits."""
    from certpush_cli.schemas import write_schemas

    with user_errors():
        written = write_schemas(out_dir)
    for path in written:
        out.print(str(path))
