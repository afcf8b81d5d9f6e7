"""What a provider's credentials are, declared by its package (``CREDENTIALS`` in
``certpush/providers/<provider>/__init__.py``), so that whatever stores or reads them works for any
provider that declares some: the one-machine host (``certpush credentials set PROVIDER``, its
environment variables, the home's sealed store), the embedded stack (the secret it seeds) and the AWS
deployment (the secret the settings name). A provider whose SDK finds its own credentials (AWS: boto3's
chain) declares none.

The credentials are one JSON object, the secret the targets read through ``BuildContext.fetch_secret``
under the id their settings class holds in the field ``named_by``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from certpush.providers.definition import TargetSettings


@dataclass(frozen=True)
class CredentialField:
    key: str
    """Its key in the secret's JSON object, e.g. ``access_key``."""
    label: str
    """How a prompt names it, e.g. ``Huawei Cloud access key (AK)``."""
    variable: str
    """The environment variable that gives it where certpush runs, e.g. ``HUAWEICLOUD_ACCESS_KEY``."""
    secret: bool
    """Never printed nor echoed (read with a hidden prompt or from standard input); the others are
    identifiers, of which ``certpush credentials show`` prints the start."""
    stored: bool = True
    """Asked for and stored by ``certpush credentials set``; a field that is not (a temporary session
    token) is only read from its variable."""


@dataclass(frozen=True)
class ProviderCredentials:
    title: str
    """The provider's name in prose, e.g. ``Huawei Cloud``."""
    settings: type[TargetSettings]
    """The provider's settings class."""
    named_by: str
    """The field of ``settings`` that holds the secret's id (on AWS, a Secrets Manager secret)."""
    fields: tuple[CredentialField, ...]

    def __post_init__(self) -> None:
        if self.named_by not in self.settings.model_fields:
            raise ValueError(f"{self.settings.__name__} has no field {self.named_by}")
        stored = [f for f in self.fields if f.stored]
        if not any(not f.secret for f in stored) or not any(f.secret for f in stored):
            raise ValueError("credentials need an identifier and a secret that are stored")

    @property
    def secret_id_variable(self) -> str:
        """The environment variable of the secret's id, e.g. ``HUAWEICLOUD_CREDENTIALS_SECRET_ID``."""
        return f"{self.settings.env_prefix()}{self.named_by.upper()}"

    @property
    def stack_output(self) -> str | None:
        """The stack output (``STACK_OUTPUTS`` of the settings) that names the deployed secret, if any."""
        return next((o for o, name in self.settings.STACK_OUTPUTS.items() if name == self.named_by), None)

    @property
    def stored_fields(self) -> tuple[CredentialField, ...]:
        return tuple(f for f in self.fields if f.stored)

    @property
    def identifier(self) -> CredentialField:
        """The first stored field that is not secret (an access key id): what is shown of them."""
        return next(f for f in self.stored_fields if not f.secret)

    def from_environment(self, environ: Mapping[str, str]) -> dict[str, str] | None:
        """The credentials the environment gives, when it gives every stored field (with the other
        fields it sets); else None."""
        if not all(environ.get(f.variable) for f in self.stored_fields):
            return None
        return {f.key: environ[f.variable] for f in self.fields if environ.get(f.variable)}
