"""Adapters only the CLI uses (the layer ships what the functions run)."""
