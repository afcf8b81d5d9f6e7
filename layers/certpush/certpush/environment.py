"""Reads a settings model from a given mapping of environment variables, so the edge parses
``os.environ`` once and tests pass a dict. Errors name the variables as the user spells them.

The rules are pydantic-settings' environment source's (its defaults: names matched whatever their
case, empty variables count as unset, a field holding a mapping, a list or a model is read as JSON),
in a few lines of plain pydantic: pydantic-settings loads python-dotenv and argparse for sources
Lambda never uses, and the handlers' cold start paid for them (issue 22, item 5). A field's
variable is its alias when it has one, else the model's ``ENV_PREFIX`` + its name in capitals."""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from certpush.errors import ConfigurationError

_COMPLEX_ORIGINS = (dict, list, set, frozenset, tuple, Mapping)


class EnvironmentModel(BaseModel):
    """A model read from environment variables (``parse_environment``)."""

    ENV_PREFIX: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "env_prefix" in cls.model_config:  # pydantic-settings' spelling, which nothing here reads
            raise TypeError(f"{cls.__name__}: give the prefix as ENV_PREFIX: ClassVar[str], not model_config")


T = TypeVar("T", bound=EnvironmentModel)


def _is_complex(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return any(_is_complex(arg) for arg in get_args(annotation) if arg is not type(None))
    if origin is not None:
        return origin in _COMPLEX_ORIGINS or (isinstance(origin, type) and issubclass(origin, Mapping))
    return isinstance(annotation, type) and (
        issubclass(annotation, (BaseModel, *_COMPLEX_ORIGINS)) and not issubclass(annotation, (str, bytes))
    )


def variable_of(settings_cls: type[EnvironmentModel], name: str, field: FieldInfo) -> str:
    return field.alias if field.alias else f"{settings_cls.ENV_PREFIX}{name.upper()}"


def parse_environment(settings_cls: type[T], environ: Mapping[str, str]) -> T:
    """The settings from ``environ``; raises ConfigurationError naming every variable at fault."""
    by_lower_name = {key.lower(): value for key, value in environ.items()}
    values: dict[str, Any] = {}
    for name, field in settings_cls.model_fields.items():
        variable = variable_of(settings_cls, name, field)
        raw = by_lower_name.get(variable.lower())
        if raw is None or raw == "":
            continue
        key = field.alias or name
        if _is_complex(field.annotation):
            try:
                values[key] = json.loads(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{variable} is not a JSON object: {exc}") from exc
        else:
            values[key] = raw
    try:
        return settings_cls.model_validate(values)
    except ValidationError as exc:
        invalid = ", ".join(
            _variable_at(settings_cls, err["loc"]) + ("" if err["type"] == "missing" else f" ({err['msg']})")
            for err in exc.errors()
        )
        raise ConfigurationError(f"certpush settings are missing or invalid: {invalid}") from exc


def _variable_at(settings_cls: type[EnvironmentModel], loc: tuple[int | str, ...]) -> str:
    first = str(loc[0]) if loc else ""
    for name, field in settings_cls.model_fields.items():
        variable = variable_of(settings_cls, name, field)
        if first in (name, variable):
            return variable
    return f"{settings_cls.ENV_PREFIX}{first.upper()}"
