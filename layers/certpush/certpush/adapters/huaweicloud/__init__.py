"""Huawei Cloud WAF and ELB push targets.

The edge builds them once from ``HuaweiCloudSettings``::

    targets = build_huaweicloud_targets(settings, credentials_loader=lambda: load_credentials(secret_id, fetch))
"""

from __future__ import annotations

import importlib
from typing import Any

# Names re-exported lazily (PEP 562): importing the package, or its region tables, loads no HTTP
# client; the first use of a name below imports the module that defines it.
_EXPORTS = {
    "HuaweiCloudClient": "client",
    "HuaweiCloudCredentials": "client",
    "load_credentials": "client",
    "HuaweiCloudSettings": "settings",
    "HuaweiElbTarget": "elb",
    "HuaweiSigner": "signer",
    "HuaweiWafTarget": "waf",
    "build_huaweicloud_targets": "targets",
    "endpoint_for": "regions",
    "offered_regions": "regions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
