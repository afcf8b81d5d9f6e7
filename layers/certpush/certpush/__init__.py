"""certpush: push issued TLS certificates to cloud WAF and load balancer services.

The package is shipped to Lambda as a layer. Only `certpush.cli` and `certpush.local`
need the CLI's extra dependencies (typer, rich, moto); nothing else imports them.
"""

__version__ = "0.1.0"
