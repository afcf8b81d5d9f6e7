"""Request quotas of the target APIs, and the table pushes are paced by.

Each push target definition declares the quotas of the APIs its pushes call (``PushTargetDefinition.quotas``),
keyed by an API group: ``<provider>:<cloud service>`` (every API of the service share one budget) or
``<provider>:<cloud service>:<operation>`` (one API). A quota applies per region (``scope="region"``) or
once for the account (``scope="global"``). Operators override them with ``CERTPUSH_RATE_LIMITS`` /
``RATE_LIMITS``: a JSON object ``{"aws:acm:ImportCertificate": "2/1s", "huaweicloud:waf": "none"}``
(``N/Ms``: N calls per M seconds; ``none``: not paced)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from certpush.errors import ConfigurationError

Scope = Literal["region", "global"]
GLOBAL_SCOPE_REGION = "global"
_QUOTA_RE = re.compile(r"^\s*(?P<calls>\d+)\s*/\s*(?P<seconds>\d+(?:\.\d+)?)?\s*s\s*$")
_GROUP_RE = re.compile(r"^[a-z0-9-]+:[a-z0-9-]+(:[A-Za-z0-9]+)?$")
RATE_LIMITS_HINT = 'e.g. {"aws:acm:ImportCertificate": "1/1s", "huaweicloud:cdn": "200/60s", "huaweicloud:waf": "none"}'


@dataclass(frozen=True)
class Quota:
    """``calls`` per ``per_seconds``, per region or for the account; ``source``: the page that documents
    it, or why the figure was chosen where none is documented."""

    calls: int
    per_seconds: float
    scope: Scope = "region"
    source: str = ""

    def __post_init__(self) -> None:
        if self.calls < 1 or self.per_seconds <= 0:
            raise ValueError("a quota needs at least 1 call per a positive number of seconds")

    @property
    def rate(self) -> float:
        """Calls per second."""
        return self.calls / self.per_seconds

    def text(self) -> str:
        return f"{self.calls}/{self.per_seconds:g}s"


@dataclass(frozen=True)
class RateKey:
    """One budget: an API group in one region (``global`` for an account-wide quota)."""

    group: str
    region: str

    def __str__(self) -> str:
        return f"{self.group}@{self.region}"


def parse_quota(text: str, scope: Scope = "region", source: str = "") -> Quota | None:
    """``"10/1s"``, ``"200/60s"``, ``"5/s"``; ``"none"``: no limit (None). Raises ValueError otherwise."""
    if text.strip().lower() == "none":
        return None
    found = _QUOTA_RE.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not CALLS/SECONDSs (e.g. 10/1s) or none")
    seconds = float(found["seconds"]) if found["seconds"] else 1.0
    return Quota(int(found["calls"]), seconds, scope, source)


def parse_overrides(raw: str | Mapping[str, str] | None) -> dict[str, str]:
    """``CERTPUSH_RATE_LIMITS`` / ``RATE_LIMITS`` as given (JSON text or a mapping), checked: every key
    an API group, every value a quota or ``none``. Raises ConfigurationError (one line, with a hint)."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            loaded = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"RATE_LIMITS is not a JSON object; hint: {RATE_LIMITS_HINT}") from exc
    else:
        loaded = raw
    if not isinstance(loaded, Mapping):
        raise ConfigurationError(f"RATE_LIMITS is not a JSON object; hint: {RATE_LIMITS_HINT}")
    checked: dict[str, str] = {}
    for group, value in loaded.items():
        if not isinstance(group, str) or not _GROUP_RE.match(group):
            raise ConfigurationError(
                f"RATE_LIMITS: {group!r} is not an API group (provider:service or provider:service:Operation); "
                f"hint: {RATE_LIMITS_HINT}"
            )
        if not isinstance(value, str):
            raise ConfigurationError(f"RATE_LIMITS[{group}]: {value!r} is not a string; hint: {RATE_LIMITS_HINT}")
        try:
            parse_quota(value)
        except ValueError as exc:
            raise ConfigurationError(f"RATE_LIMITS[{group}]: {exc}; hint: {RATE_LIMITS_HINT}") from exc
        checked[group] = value
    return checked


def checked_rate_limits(value: object) -> object:
    """A ``RATE_LIMITS`` value (JSON text or a mapping) checked, for a settings model's validator."""
    if value is None or isinstance(value, str | Mapping):
        try:
            return parse_overrides(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None
    return value


class QuotaTable:
    """The quotas in force: the declared ones with the operator's overrides, each divided by ``share``
    (the part of the account's quota one limiter may use: 1 on one machine; 1/N for each of N
    independent limiters, e.g. concurrently running Lambda environments)."""

    def __init__(
        self,
        declared: Iterable[tuple[str, Quota]],
        overrides: Mapping[str, str] | None = None,
        *,
        share: float = 1.0,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be within (0, 1]")
        quotas: dict[str, Quota | None] = {}
        for group, quota in declared:
            known = quotas.get(group)
            if known is not None and known != quota:
                raise ValueError(f"two push targets declare different quotas for {group}")
            quotas[group] = quota
        for group, text in parse_overrides(overrides).items():
            known = quotas.get(group)
            scope: Scope = known.scope if known is not None else "region"
            quotas[group] = parse_quota(text, scope, source="RATE_LIMITS (operator's setting)")
        if share < 1:
            quotas = {
                group: None if q is None else Quota(q.calls, q.per_seconds / share, q.scope, q.source)
                for group, q in quotas.items()
            }
        self._quotas = quotas

    def __iter__(self) -> Iterator[tuple[str, Quota | None]]:
        return iter(sorted(self._quotas.items()))

    def find(self, provider: str, service: str, operation: str | None, region: str) -> tuple[RateKey, Quota] | None:
        """The budget a call of ``operation`` (of ``service``) in ``region`` draws from: the operation's own
        quota, else its service's; None when neither is declared (or the operator said ``none``)."""
        for group in (f"{provider}:{service}:{operation}" if operation else None, f"{provider}:{service}"):
            if group is None or group not in self._quotas:
                continue
            quota = self._quotas[group]
            if quota is None:
                return None
            return RateKey(group, GLOBAL_SCOPE_REGION if quota.scope == "global" else region), quota
        return None
