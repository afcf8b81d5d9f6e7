"""The commands of `certpush`, one module per command group; ``certpush_cli.main`` registers them."""
