"""Which fields an SDK response model declares that an answer left out (the contract tests' judge)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

_PRIMITIVES = {"str", "int", "bool", "float", "object", "date", "datetime", "long"}
_LIST = re.compile(r"^list\[(?P<inner>.+)\]$")
_DICT = re.compile(r"^dict\((?P<key>[^,]+),\s*(?P<value>.+)\)$")


def missing_fields(
    model_package: ModuleType, type_name: str, value: Any, *, skip: frozenset[str] = frozenset(), path: str = ""
) -> Iterator[str]:
    """Each ``path.field`` the model ``type_name`` declares that ``value`` (decoded JSON) lacks, walking
    nested models and lists of them. ``skip``: the response's header fields (not in the body)."""
    if value is None or type_name in _PRIMITIVES:
        return
    listed = _LIST.match(type_name)
    if listed:
        for index, item in enumerate(value if isinstance(value, list) else []):
            yield from missing_fields(model_package, listed["inner"], item, path=f"{path}[{index}]")
        return
    mapped = _DICT.match(type_name)
    if mapped:
        for key, item in (value if isinstance(value, dict) else {}).items():
            yield from missing_fields(model_package, mapped["value"], item, path=f"{path}{{{key}}}")
        return
    klass = getattr(model_package, type_name, None)
    if klass is None or not hasattr(klass, "openapi_types"):
        return
    if not isinstance(value, dict):
        yield f"{path or type_name} (not an object)"
        return
    for attribute, attribute_type in klass.openapi_types.items():
        key = klass.attribute_map[attribute]
        if key in skip:
            continue
        where = f"{path}.{key}" if path else key
        if key not in value:
            yield where
        else:
            yield from missing_fields(model_package, attribute_type, value[key], path=where)


def missing_in_response(model_package: ModuleType, response_type: str, content: bytes, headers: list[str]) -> list[str]:
    body = json.loads(content) if content else {}
    return list(missing_fields(model_package, response_type, body, skip=frozenset(headers)))
