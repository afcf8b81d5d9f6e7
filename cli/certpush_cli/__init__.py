"""The certpush command line (needs the CLI extras: typer, rich)."""
