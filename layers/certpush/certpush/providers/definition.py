"""What a push target module declares: one ``PushTargetDefinition``.

Building an adapter is lazy (``build`` imports its SDK), so the validator and the CLI can read the
registry without loading boto3's service models or an HTTP client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import ConfigDict

from certpush.environment import EnvironmentModel, parse_environment
from certpush.errors import ConfigurationError
from certpush.logic.certificate_rules import TargetCertificateRules
from certpush.logic.rate_limits import Quota
from certpush.models.domain import GLOBAL_REGION, PushRecord
from certpush.ports import PushTarget, RateLimiter


class TargetSettings(EnvironmentModel):
    """Settings of a target, read from the environment variables that start with its ``ENV_PREFIX``
    (``HUAWEICLOUD_PROJECT_IDS`` -> ``project_ids``; a mapping reads a JSON object; see
    ``certpush.environment``). Empty variables count as unset. Several targets may share one
    settings class."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    STACK_OUTPUTS: ClassVar[Mapping[str, str]] = {}
    """The stack outputs (template.yaml ``Outputs``) that carry one of these settings, output -> field:
    what the CLI reads of a deployed stack (``certpush_cli.stack``)."""

    @classmethod
    def env_prefix(cls) -> str:
        return cls.ENV_PREFIX

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TargetSettings:
        return parse_environment(cls, environ)


@dataclass
class BuildContext:
    """What building an adapter may need from the edge: secrets, and objects targets share."""

    fetch_secret: Callable[[str], Any]
    """A JSON secret by id, cached by the edge."""
    fetch_fresh_secret: Callable[[str], Any] | None = None
    """The same, read again past the cache (the target refused the cached credentials: rotated?)."""
    rate_limiter: RateLimiter | None = None
    """Paces the targets' API calls under their quotas; None: not paced."""
    instrument: Callable[[str], None] | None = None
    """Traces a client library (``"httpx"``) before a target first makes a client of it: the push
    worker's Tracer patches it then, not at init (a worker that pushes only to AWS never imports
    httpx: about 17 ms of its cold start). None: not traced."""
    _shared: dict[Hashable, Any] = field(default_factory=dict)
    _making: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def shared(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """One object per key for every target built with this context (e.g. one HTTP client), made once
        whatever the threads asking (``TargetsOnDemand`` builds under a lock of its own; the CLI's and the
        host's builders need not)."""
        with self._making:
            if key not in self._shared:
                self._shared[key] = make()
            return self._shared[key]


@dataclass(frozen=True)
class Attachment:
    """How an ``--attach`` reference of this target reads (help text for the CLI and the README)."""

    reference: str
    """e.g. "a listener ARN (added as an SNI certificate)"."""
    default: str | None = None
    """What ``--attach-default`` does with a reference; None when the target has no default."""


Inspection = Iterator[tuple[str, bool]]
"""Lines "what was looked at" with whether it was found as the record says."""

S = TypeVar("S", bound=TargetSettings)


@dataclass(frozen=True)
class PushTargetDefinition(Generic[S]):
    provider: str
    service: str
    description: str
    """Where the certificate goes, in one line: README's table of targets (tests/unit/test_provider_layout.py)."""
    regions: frozenset[str] | None
    """Region table; None for a global service (its one "region" is ``global``)."""
    settings: type[S]
    build: Callable[[S, BuildContext], PushTarget | None]
    """The adapter; None when the deployment is not configured for this target."""
    rules: TargetCertificateRules
    """What the target takes (keys, signatures, X.509 versions, sizes), each rule with its documentation
    page: the validator rejects a push that breaks one, an import warns (``certificate_rules``)."""
    attachment: Attachment | None = None
    inspect: Callable[[PushRecord], Inspection] | None = None
    quotas: Mapping[str, Quota] = field(default_factory=dict)
    """The request quotas of the APIs a push to this target calls, by API group (``provider:service`` or
    ``provider:service:Operation``, ``certpush.logic.rate_limits``), each naming its source: pushes are
    paced under them (``RateLimiter``), and ``RATE_LIMITS`` overrides them."""
    """Looks through the target's own API for what a SUCCEEDED record says was pushed; None when
    the target can only be inspected in its emulator (its emulator package's ``inspection`` module)."""

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.service}"

    @property
    def is_global(self) -> bool:
        return self.regions is None

    def offered_in(self, region: str) -> bool:
        return region == GLOBAL_REGION if self.regions is None else region in self.regions

    def build_from(self, settings: TargetSettings, context: BuildContext) -> PushTarget | None:
        if not isinstance(settings, self.settings):
            raise ConfigurationError(f"{self.name} needs {self.settings.__name__}, not {type(settings).__name__}")
        return self.build(settings, context)
