"""The home: the one directory the one-machine host keeps everything in.

    $CERTPUSH_HOME (or --home DIR; default ${XDG_STATE_HOME:-~/.local/state}/certpush)
      key            32 random bytes, mode 0600: the AES-GCM key of the material and the credentials
      certpush.db    the SQLite database (+ certpush.db-wal, certpush.db-shm)
      config.toml    optional settings (HostConfig below), mode 0600 when it holds webhook secrets
      serve.lock     held (flock) by the running `certpush serve`
      simulators.json  with --simulate: the simulated clouds' processes and addresses

The home is created 0700 with its key; certpush refuses to start when the home or the key file can
be read by the group or others, and says the chmod that fixes it."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from pydantic_settings.sources.utils import parse_env_vars

from certpush.errors import ConfigurationError
from certpush.logic.rate_limits import checked_rate_limits
from certpush_cli.host.cipher import KEY_BYTES

HOME_VARIABLE = "CERTPUSH_HOME"


class MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a mapping instead of ``os.environ`` (its dotenv
    source overrides ``_load_env_vars`` the same way). (The runtime's settings no longer use
    pydantic-settings: ``certpush.environment``.)"""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


EVENT_KINDS = ("Certificate Pushed", "Certificate Push Summary", "Certificate Expiring")


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get(HOME_VARIABLE):
        return Path(environ[HOME_VARIABLE]).expanduser()
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state).expanduser() / "certpush"


class Webhook(BaseModel):
    """``[[webhooks]]`` in config.toml: where events are POSTed, signed with ``secret``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: HttpUrl
    secret: SecretStr = Field(min_length=16, description="HMAC-SHA256 key of the X-Certpush-Signature header")
    events: list[str] = Field(default_factory=lambda: list(EVENT_KINDS))
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    max_attempts: int = Field(default=8, ge=1, le=50)


class HostConfig(BaseSettings):
    """config.toml in the home; each setting may be overridden by ``CERTPUSH_<NAME>`` (e.g.
    ``CERTPUSH_PUSH_CONCURRENCY``). The defaults are the AWS deployment's (template.yaml), but for
    ``push_concurrency``."""

    model_config = SettingsConfigDict(env_prefix="CERTPUSH_", extra="forbid", env_ignore_empty=True)

    simulate: bool = Field(default=False, description="Huawei Cloud simulator and moto instead of the real clouds")
    simulate_aws: bool = Field(default=True, description="with simulate: moto for the AWS targets too (when installed)")
    # a host has no batches to spread: enough threads for one issuance's targets at once (30, e.g. 10
    # regions x 3 services, in one wave: with 20 threads they took two, 1.5 x one target instead of
    # 1.14 x; make bench, issue 22). Pushes wait on the network, not the CPU: idle threads cost little.
    push_concurrency: int = Field(default=50, ge=1, le=100)
    push_max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: int = Field(default=10, ge=0, le=900)
    retry_max_seconds: int = Field(default=900, ge=0, le=43200)
    push_lease_seconds: int = Field(default=90, ge=1, le=3600)
    push_settle_seconds: int = Field(
        default=30, ge=0, le=900, description="the least wait before retrying a request the target may still carry out"
    )
    visibility_timeout_seconds: int = Field(default=360, ge=1, le=43200)
    push_max_receives: int = Field(default=10, ge=1, le=1000)
    stuck_after_seconds: int = Field(default=1800, ge=1, le=86400)
    stuck_max_sweeps: int = Field(default=3, ge=1, le=50)
    sweep_every_seconds: float = Field(default=300, gt=0)
    expiry_warning_days: int = Field(default=30, ge=1, le=365)
    expiry_every_seconds: float = Field(default=86400, gt=0)
    poll_seconds: float = Field(default=0.2, gt=0, le=10, description="how often idle workers look for work")
    port: int = Field(default=8765, ge=0, le=65535, description="the dashboard and records API on 127.0.0.1")
    webhooks: list[Webhook] = Field(default_factory=list)
    rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description='the targets\' request quotas overridden, e.g. {"huaweicloud:waf": "5/1s", "aws:acm": "none"}',
    )

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _known_quotas(cls, value: object) -> object:
        return checked_rate_limits(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # Home.config merges config.toml and the environment it is given


def _loose(mode: int) -> bool:
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


@dataclass(frozen=True)
class Home:
    path: Path

    @property
    def key_file(self) -> Path:
        return self.path / "key"

    @property
    def database_file(self) -> Path:
        return self.path / "certpush.db"

    @property
    def config_file(self) -> Path:
        return self.path / "config.toml"

    @property
    def lock_file(self) -> Path:
        return self.path / "serve.lock"

    @property
    def simulators_file(self) -> Path:
        return self.path / "simulators.json"

    @classmethod
    def open(cls, path: Path | None = None, *, create: bool = True) -> Home:
        """The home at ``path`` (default: ``default_home()``), created with its key when missing.
        Raises ConfigurationError when it is unsafe or unusable."""
        home = cls((path or default_home()).expanduser().absolute())
        if not home.key_file.exists():
            if not create:
                raise ConfigurationError(f"no certpush home at {home.path}; `certpush serve` creates one")
            home._create()
        home.check()
        return home

    def _create(self) -> None:
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            if any(self.path.iterdir()) and not self.database_file.exists():
                entries = ", ".join(sorted(p.name for p in self.path.iterdir())[:5])
                raise ConfigurationError(
                    f"{self.path} is not empty ({entries}) and holds no certpush home; pick another --home"
                )
            if self.database_file.exists():
                raise ConfigurationError(
                    f"{self.key_file} is missing, so the material in {self.database_file} cannot be decrypted; "
                    "restore the key file from your backup"
                )
            os.chmod(self.path, 0o700)
            # O_EXCL: two commands creating the same home at once end with one key, never two
            descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            raise ConfigurationError(f"cannot create the certpush home {self.path}: {exc.strerror}") from exc
        with os.fdopen(descriptor, "wb") as key:
            key.write(os.urandom(KEY_BYTES))
            key.flush()
            os.fsync(key.fileno())

    def check(self) -> None:
        """Refuses a home or key file that others can read, with the command that fixes it."""
        for path, mode in ((self.path, "700"), (self.key_file, "600")):
            if _loose(path.stat().st_mode):
                raise ConfigurationError(
                    f"{path} can be read by other users ({stat.filemode(path.stat().st_mode)}); "
                    f"hint: chmod {mode} {path}"
                )

    def key(self) -> bytes:
        data = self.key_file.read_bytes()
        if len(data) != KEY_BYTES:
            raise ConfigurationError(f"{self.key_file} is not a certpush key ({len(data)} bytes, not {KEY_BYTES})")
        return data

    def config(self, environ: Mapping[str, str] | None = None) -> HostConfig:
        data: dict[str, Any] = {}
        if self.config_file.exists():
            try:
                data = tomllib.loads(self.config_file.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise ConfigurationError(f"{self.config_file} is not valid TOML: {exc}") from exc
            if data.get("webhooks") and _loose(self.config_file.stat().st_mode):
                raise ConfigurationError(
                    f"{self.config_file} holds webhook secrets and can be read by other users; "
                    f"hint: chmod 600 {self.config_file}"
                )
        try:
            # a CERTPUSH_<NAME> variable wins over config.toml
            overrides = MappingEnvSource(HostConfig, os.environ if environ is None else environ)()
            return HostConfig(**{**data, **overrides})
        except SettingsError as exc:
            raise ConfigurationError(f"a CERTPUSH_* variable is invalid: {exc}") from exc
        except ValidationError as exc:
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)[:3]
            )
            raise ConfigurationError(f"{self.config_file} (or a CERTPUSH_* variable) is invalid: {where}") from exc

    def mark_simulated(self) -> bool:
        """Writes ``simulate = true`` into config.toml (once); True when it changed the file."""
        text = self.config_file.read_text() if self.config_file.exists() else ""
        if self.config(environ={}).simulate:
            return False
        lines = [line for line in text.splitlines() if not line.strip().startswith("simulate")]
        preamble = "# this home pushes to simulated clouds (certpush serve --simulate)\nsimulate = true\n"
        # top-level keys must come before any [table] of the file
        self.config_file.write_text(preamble + "\n".join(lines) + ("\n" if lines else ""))
        os.chmod(self.config_file, 0o600)
        return True
