"""Makes the botocore data the layer ships cheap to load: run by the Makefile after it has kept
only the service models certpush calls (``BOTOCORE_SERVICES``).

A boto3 client's first creation in a process reads botocore's ``endpoints.json`` (1.2 MB: every
service of every partition) and, per service, ``service-2.json.gz`` and ``endpoint-rule-set-1.json.gz``
(decompressed, then parsed). In a pipeline handler's cold start that was 39 ms for the first client,
the larger part of the 50 ms its clients cost (issue 22, bench: cold_start.py). So:

- ``endpoints.json`` keeps only the services whose models ship (matched by each model's
  ``metadata.endpointPrefix``): a client of any other service cannot be made from this layer anyway
  (UnknownServiceError), and botocore reads nothing else in it for these;
- each ``service-2`` model loses its ``documentation`` strings (read for docstrings and generated
  docs only, never to build or parse a request) and is written minified, uncompressed;
- each ``endpoint-rule-set-1`` is written minified, uncompressed, unchanged otherwise.

botocore's loader looks for ``<name>.json`` before ``<name>.json.gz``; the compressed file is removed
so that there is one of each. tests/integration/test_layer_build.py holds the result to the stock data:
the same models but for documentation, the same endpoint and signing region for every client the code
makes, in every partition.

No library does this (botocore ships its data compressed for size, not load time); it is a build
step, like the choice of models the Makefile makes before it."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

DOCUMENTATION_KEYS = frozenset({"documentation", "documentationUrl"})


def without_documentation(node: Any) -> Any:
    """``node`` with every documentation string of a service model removed, at any depth."""
    if isinstance(node, dict):
        return {key: without_documentation(value) for key, value in node.items() if key not in DOCUMENTATION_KEYS}
    if isinstance(node, list):
        return [without_documentation(value) for value in node]
    return node


def _write_minified(path: Path, data: Any) -> None:
    # key order kept: a shape's members are serialized in it (rest-xml: CloudFront)
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")


def _read(path: Path) -> Any:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return json.loads(raw)


def trim(data: Path) -> list[str]:
    """Trims the botocore data folder ``data`` in place; returns the endpoint prefixes kept."""
    prefixes: set[str] = set()
    for model_path in sorted(data.glob("*/*/service-2.json*")):
        model = _read(model_path)
        prefixes.add(model["metadata"]["endpointPrefix"])
        _write_minified(model_path.parent / "service-2.json", without_documentation(model))
        if model_path.suffix == ".gz":
            model_path.unlink()
    for rules_path in sorted(data.glob("*/*/endpoint-rule-set-1.json.gz")):
        _write_minified(rules_path.parent / "endpoint-rule-set-1.json", _read(rules_path))
        rules_path.unlink()
    endpoints = _read(data / "endpoints.json")
    for partition in endpoints["partitions"]:
        partition["services"] = {name: v for name, v in partition["services"].items() if name in prefixes}
    _write_minified(data / "endpoints.json", endpoints)
    return sorted(prefixes)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: botocore_data.py <layer's python folder>", file=sys.stderr)
        return 2
    data = Path(sys.argv[1]) / "botocore" / "data"
    if not (data / "endpoints.json").is_file():
        print(f"{data}: no botocore data here", file=sys.stderr)
        return 2
    trim(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
