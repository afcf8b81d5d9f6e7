"""Reads a settings class (pydantic-settings) from a given mapping of environment variables, so the
edge parses ``os.environ`` once and tests pass a dict. Errors name the variables as the user spells
them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from certpush.errors import ConfigurationError

T = TypeVar("T", bound=BaseSettings)


class MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a mapping instead of ``os.environ`` (its dotenv
    source overrides ``_load_env_vars`` the same way)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def parse_environment(settings_cls: type[T], environ: Mapping[str, str]) -> T:
    """The settings from ``environ``; raises ConfigurationError naming every variable at fault."""
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    source = MappingEnvSource(settings_cls, environ)
    try:
        values: dict[str, Any] = source()
    except SettingsError as exc:
        # only a variable of a complex field (a mapping, a list) is decoded as JSON here
        decoded = [
            variable
            for name, field in settings_cls.model_fields.items()
            if source.field_is_complex(field) and (variable := f"{prefix}{name.upper()}") in environ
        ]
        raise ConfigurationError(f"{' or '.join(decoded)} is not a JSON object: {exc.__cause__}") from exc
    try:
        return settings_cls.model_validate(values)
    except ValidationError as exc:
        invalid = ", ".join(
            f"{prefix}{str(err['loc'][0]).upper()}" + ("" if err["type"] == "missing" else f" ({err['msg']})")
            for err in exc.errors()
        )
        raise ConfigurationError(f"certpush settings are missing or invalid: {invalid}") from exc
