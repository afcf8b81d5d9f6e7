"""Reads template.yaml (CloudFormation short tags included) and resolves intrinsic functions,
so that the embedded stack is built from the template rather than restated by hand."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "GetAtt", "Sub", "Join", "If", "Equals", "Select", "Split", "Not", "And", "Or",
            "FindInMap", "Base64", "GetAZs", "ImportValue", "Cidr",
        )
    },
}  # fmt: skip


class _CfnLoader(yaml.SafeLoader):
    pass


def _constructor(long_name: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {long_name: value}

    return construct


for _short, _long in _SHORT_TAGS.items():
    _CfnLoader.add_constructor(f"!{_short}", _constructor(_long))


def load_template(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        data = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass with CFN tags only
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation/SAM template")
    return data


class Unresolved(Exception):
    """A reference to a resource that does not exist yet."""


_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Join, Fn::Select, Fn::Split over known values."""

    def __init__(self, pseudo: Mapping[str, str], parameters: Mapping[str, str]) -> None:
        self.refs: dict[str, str] = {**pseudo, **parameters}
        self.attributes: dict[tuple[str, str], str] = {}
        self.conditions: dict[str, bool] = {}  # the template's Conditions, evaluated (Fn::If)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if arg not in self.refs:
                    raise Unresolved(arg)
                return self.refs[arg]
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                if (name, attribute) not in self.attributes:
                    raise Unresolved(f"{name}.{attribute}")
                return self.attributes[(name, attribute)]
            if key == "Fn::Sub":
                template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return _SUB_VAR.sub(lambda m: self._sub_var(m.group(1), variables), template)
            if key == "Fn::If":
                condition, when_true, when_false = arg
                return self.resolve(when_true if self.conditions[condition] else when_false)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(i) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            if key == "Fn::Split":
                separator, text = self.resolve(arg)
                return str(text).split(separator)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_var(self, name: str, variables: Mapping[str, Any]) -> str:
        if name in variables:
            return str(variables[name])
        if "." in name:
            resource, attribute = name.split(".", 1)
            return str(self.resolve({"Fn::GetAtt": [resource, attribute]}))
        return str(self.resolve({"Ref": name}))
