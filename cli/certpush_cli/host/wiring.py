"""The host's composition root: the domain objects of ``certpush.logic`` built on the SQLite adapters
of one home, as ``certpush.wiring`` builds them on the AWS ones.

Push targets are the registry's (``certpush.providers.registry``), built from the same settings
classes as on AWS, read from this process's environment (e.g. ``HUAWEICLOUD_PROJECT_IDS``). What
differs is where secrets come from: a provider that declares its credentials (``CREDENTIALS`` of its
package, ``certpush.providers.credentials``) has them from their environment variables (e.g.
``HUAWEICLOUD_ACCESS_KEY`` / ``HUAWEICLOUD_SECRET_KEY``), else from the home (``certpush credentials set
PROVIDER``, sealed like the material); AWS targets use boto3's default credential chain. A simulated
home points every provider at its simulator instead (``certpush_cli.host.simulators``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from certpush.adapters.rate_limiter import WindowRateLimiter
from certpush.clock import SystemClock
from certpush.errors import ConfigurationError
from certpush.logic.dashboard import Dashboard
from certpush.logic.expiry import ExpiryWarnings
from certpush.logic.issuances import Issuances
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker, RetryPolicy
from certpush.logic.rate_limits import QuotaTable
from certpush.logic.sweeper import Sweeper
from certpush.logic.validation import Validator
from certpush.models.domain import AttachResult, PushRequest, UploadResult
from certpush.ports import PushTarget
from certpush.providers.credentials import ProviderCredentials
from certpush.providers.definition import BuildContext
from certpush.providers.registry import REGISTRY, TargetRegistry, hint_for
from certpush_cli.credentials import provider_credentials
from certpush_cli.host.cipher import SealedBox
from certpush_cli.host.database import Database
from certpush_cli.host.events import SqliteEventPublisher
from certpush_cli.host.home import Home, HostConfig
from certpush_cli.host.inbox import SqliteInbox
from certpush_cli.host.processes import process_identity
from certpush_cli.host.pushes import SqlitePushQuery
from certpush_cli.host.queue import SqliteDeadLetterQueue, SqlitePushQueue
from certpush_cli.host.records import SqliteRecordsRepository
from certpush_cli.host.simulators import Simulation
from certpush_cli.host.stores import SqliteCertificateStore, SqliteCredentialStore, SqlitePolicyStore
from certpush_cli.logic.retract import Retractor


class UnavailableTarget:
    """A registered target this host cannot push to (e.g. AWS on a simulated home without moto):
    each push ends FAILED (NOT_CONFIGURED) with the reason, instead of reaching a real cloud."""

    def __init__(self, provider: str, service: str, reason: str) -> None:
        self.provider, self.service, self._reason = provider, service, reason

    def upload(self, request: PushRequest) -> UploadResult:
        raise ConfigurationError(self._reason)

    def find(self, request: PushRequest) -> UploadResult | None:
        raise ConfigurationError(self._reason)

    def attach(self, request: PushRequest, target_id: str) -> AttachResult:
        raise ConfigurationError(self._reason)

    def console_url(self, region: str, target_id: str | None = None) -> str:
        return ""

    def in_use(self, region: str, target_id: str, attached: Any = ()) -> list[str]:
        raise ConfigurationError(self._reason)

    def retract(self, region: str, target_id: str) -> None:
        raise ConfigurationError(self._reason)


@dataclass
class Host:
    """Everything a command or ``certpush serve`` needs of one home, built lazily."""

    home: Home
    config: HostConfig
    environ: Mapping[str, str]
    simulation: Simulation | None = None
    owner: str = field(default_factory=process_identity)
    registry: TargetRegistry = REGISTRY
    providers_credentials: Mapping[str, ProviderCredentials] = field(default_factory=provider_credentials)
    """The credentials each provider declares, by provider: the secret of each is named by its provider."""

    @classmethod
    def open(cls, home: Home, environ: Mapping[str, str] | None = None, simulation: Simulation | None = None) -> Host:
        environ = dict(os.environ if environ is None else environ)
        return cls(home=home, config=home.config(environ), environ=environ, simulation=simulation)

    # -- adapters --------------------------------------------------------------------------------
    @cached_property
    def database(self) -> Database:
        return Database(self.home.database_file)

    @cached_property
    def box(self) -> SealedBox:
        return SealedBox(self.home.key())

    @cached_property
    def clock(self) -> SystemClock:
        return SystemClock()

    @cached_property
    def store(self) -> SqliteCertificateStore:
        return SqliteCertificateStore(self.database, self.box)

    @cached_property
    def policies(self) -> SqlitePolicyStore:
        return SqlitePolicyStore(self.database)

    @cached_property
    def credentials(self) -> SqliteCredentialStore:
        return SqliteCredentialStore(self.database, self.box)

    @cached_property
    def records(self) -> SqliteRecordsRepository:
        return SqliteRecordsRepository(self.database, owner=self.owner)

    @cached_property
    def push_query(self) -> SqlitePushQuery:
        return SqlitePushQuery(self.database)

    @cached_property
    def queue(self) -> SqlitePushQueue:
        return SqlitePushQueue(
            self.database,
            owner=self.owner,
            visibility_timeout=self.config.visibility_timeout_seconds,
            max_receives=self.config.push_max_receives,
        )

    @cached_property
    def dead_letters(self) -> SqliteDeadLetterQueue:
        return SqliteDeadLetterQueue(self.database)

    @cached_property
    def inbox(self) -> SqliteInbox:
        return SqliteInbox(self.database)

    @cached_property
    def events(self) -> SqliteEventPublisher:
        return SqliteEventPublisher(self.database, self.config.webhooks)

    # -- targets ---------------------------------------------------------------------------------
    def _credentials(self, name: str) -> dict[str, str]:
        """The secret a target's settings name: the host names each provider's by the provider."""
        declared = self.providers_credentials.get(name)
        if declared is None:
            raise ConfigurationError(f"the host keeps no secret named {name}")
        if self.simulation is not None:
            simulated = self.simulation.credentials.get(name)
            if simulated is None:
                raise ConfigurationError(f"{declared.title} is not simulated on this host")
            return dict(simulated)
        from_environment = declared.from_environment(self.environ)
        if from_environment is not None:
            return from_environment
        stored = self.credentials.get(name)
        if stored:
            return stored
        variables = " and ".join(f.variable for f in declared.stored_fields)
        raise ConfigurationError(
            f"no {declared.title} credentials on this host; hint: certpush credentials set {name} (or set {variables})"
        )

    @cached_property
    def rate_limiter(self) -> WindowRateLimiter:
        """One limiter for every push thread of this process, under the whole of each quota (a host is one
        process per home that pushes: ``certpush serve``; a ``push --wait`` beside it shares the quotas
        with it, a case this does not cover)."""
        return WindowRateLimiter(QuotaTable(self.registry.quotas(), self.config.rate_limits))

    @cached_property
    def targets(self) -> dict[tuple[str, str], PushTarget]:
        environment = {
            **self.environ,
            **{declared.secret_id_variable: name for name, declared in self.providers_credentials.items()},
        }
        if self.simulation is not None:
            environment.update(self.simulation.environment())  # each simulator's endpoint
        context = BuildContext(fetch_secret=self._credentials, rate_limiter=self.rate_limiter)
        # one settings object per class, as certpush.wiring has: targets that share a class share its
        # clients (one HTTP client for every Huawei Cloud service)
        settings = {kind: kind.from_env(environment) for kind in self.registry.settings_classes()}
        built: dict[tuple[str, str], PushTarget] = {}
        for definition in self.registry:
            if self.simulation is not None and definition.provider not in self.simulation.processes:
                # never the real cloud from a simulated home: a provider with no simulator running is unavailable
                reason = self.simulation.missing.get(definition.provider) or (
                    f"{definition.provider} is not simulated on this host"
                )
                built[(definition.provider, definition.service)] = UnavailableTarget(
                    definition.provider, definition.service, reason
                )
                continue
            target = definition.build_from(settings[definition.settings], context)
            if target is not None:
                built[(definition.provider, definition.service)] = target
        return built

    # -- the domain ------------------------------------------------------------------------------
    @cached_property
    def validator(self) -> Validator:
        return Validator(
            store=self.store,
            policies=self.policies,
            records=self.records,
            queue=self.queue,
            clock=self.clock,
            catalog=self.registry,
        )

    @cached_property
    def worker(self) -> PushWorker:
        return PushWorker(
            store=self.store,
            records=self.records,
            targets=self.targets,
            clock=self.clock,
            retry=RetryPolicy(
                max_attempts=self.config.push_max_attempts,
                base_seconds=self.config.retry_base_seconds,
                max_seconds=self.config.retry_max_seconds,
                settle_seconds=self.config.push_settle_seconds,
            ),
            lease_seconds=self.config.push_lease_seconds,
        )

    @cached_property
    def notifier(self) -> Notifier:
        return Notifier(records=self.records, publisher=self.events)

    @cached_property
    def sweeper(self) -> Sweeper:
        return Sweeper(
            records=self.records,
            queue=self.queue,
            clock=self.clock,
            stuck_after=timedelta(seconds=self.config.stuck_after_seconds),
            max_sweeps=self.config.stuck_max_sweeps,
        )

    @cached_property
    def expiry(self) -> ExpiryWarnings:
        return ExpiryWarnings(
            store=self.store,
            records=self.records,
            publisher=self.events,
            clock=self.clock,
            warning_days=self.config.expiry_warning_days,
        )

    @cached_property
    def dashboard(self) -> Dashboard:
        return Dashboard(
            store=self.store,
            records=self.records,
            pushes=self.push_query,
            publisher=self.inbox,
            clock=self.clock,
            expiry_warning_days=self.config.expiry_warning_days,
            hint_for=hint_for,
        )

    @cached_property
    def issuances(self) -> Issuances:
        return Issuances(records=self.records, publisher=self.inbox, clock=self.clock)

    @cached_property
    def retractor(self) -> Retractor:
        return Retractor(records=self.records, targets=self.targets, clock=self.clock)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.close()
