"""certpush: push issued TLS certificates to cloud WAF and load balancer services.

The package is shipped to Lambda as a layer and holds only what runs there. The command line and
the embedded stack live in `certpush_dev` (dev/certpush_dev), which this package never imports.
"""

__version__ = "0.1.0"
