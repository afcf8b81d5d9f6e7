"""Composition root: real adapters built from settings. Handlers and the CLI call these once;
tests build the domain objects with fakes instead.

What a function needs is imported inside the function that builds it (the Huawei Cloud HTTP
client, cryptography, the push targets), so each handler's cold start pays only for what it runs.
The DynamoDB stores of one function share one boto3 resource (``dynamodb()``): each resource makes a
client of its own (10-15 ms each at a cold start), and the client is what does the work (clients are
thread-safe; a store's ``Table`` is its own)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.clock import SystemClock
from certpush.settings import Settings

# Each function imports what it builds: a handler's cold start loads only what it runs (the
# notifier needs neither cryptography, the certificate store nor the push targets).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from certpush.adapters.certificate_store import DynamoDBCertificateStore
    from certpush.adapters.consumers import PushConsumer
    from certpush.adapters.rate_limiter import WindowRateLimiter
    from certpush.logic.dashboard import Dashboard
    from certpush.logic.expiry import ExpiryWarnings
    from certpush.logic.notify import Notifier
    from certpush.logic.push import PushWorker
    from certpush.logic.sweeper import Sweeper
    from certpush.logic.validation import Validator
    from certpush.ports import PushTarget
    from certpush.providers.definition import BuildContext, PushTargetDefinition
    from certpush.providers.registry import TargetRegistry


def dynamodb() -> Any:
    """A DynamoDB resource for the stores one builder makes."""
    from certpush.adapters.aws_clients import aws_resource

    return aws_resource("dynamodb")


def certificate_store(settings: Settings, resource: Any | None = None) -> DynamoDBCertificateStore:
    from certpush.adapters.certificate_store import DynamoDBCertificateStore

    return DynamoDBCertificateStore(
        settings.inventory_table,
        secrets_prefix=settings.secrets_prefix,
        kms_key_id=settings.certificate_kms_key_id,
        material_max_age=settings.material_cache_seconds,
        resource=resource,
    )


def build_validator(settings: Settings) -> Validator:
    from certpush.adapters.dynamodb_replays import DynamoDBReplayLog
    from certpush.adapters.policy_store import DynamoDBPolicyStore
    from certpush.adapters.sqs_queue import SqsPushQueue
    from certpush.logic.validation import Validator
    from certpush.providers.registry import REGISTRY

    tables = dynamodb()
    return Validator(
        store=certificate_store(settings, tables),
        policies=DynamoDBPolicyStore(settings.inventory_table, tables),
        records=DynamoDBRecordsRepository(settings.records_table, tables),
        queue=SqsPushQueue(settings.push_queue_url),
        clock=SystemClock(),
        catalog=REGISTRY,
        replays=DynamoDBReplayLog(settings.records_table, tables),
    )


class TargetsOnDemand(Mapping[tuple[str, str], "PushTarget"]):
    """The adapter of every registered target this deployment is configured for, each built the first
    time a push asks for it: a push worker whose batch holds only AWS messages makes no Huawei Cloud
    client (its HTTP client, TLS context and signer: about 100 ms of a cold start, issue 22 item 5),
    and the other way round. Built once whatever the number of threads asking (one lock: the targets
    of a provider share one client through ``BuildContext.shared``)."""

    def __init__(self, definitions: Iterable[PushTargetDefinition[Any]], settings: Settings, context: BuildContext):
        self._definitions = {(d.provider, d.service): d for d in definitions}
        self._settings = settings
        self._context = context
        self._built: dict[tuple[str, str], PushTarget | None] = {}
        self._lock = threading.Lock()

    def _target(self, key: tuple[str, str]) -> PushTarget | None:
        if key in self._built:
            return self._built[key]
        definition = self._definitions.get(key)
        if definition is None:
            return None
        with self._lock:
            if key not in self._built:
                settings = self._settings.target_settings(definition.settings)
                self._built[key] = definition.build_from(settings, self._context)
            return self._built[key]

    def __getitem__(self, key: tuple[str, str]) -> PushTarget:
        target = self._target(key)
        if target is None:
            raise KeyError(key)
        return target

    def __iter__(self) -> Iterator[tuple[str, str]]:  # builds every target: for listings, not pushes
        return iter([key for key in self._definitions if self._target(key) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def built(self) -> list[tuple[str, str]]:
        """The targets built so far (configured or not)."""
        return list(self._built)


def build_targets(
    settings: Settings, registry: TargetRegistry | None = None, instrument: Callable[[str], None] | None = None
) -> TargetsOnDemand:
    """The adapter of every registered target this deployment is configured for (``TargetsOnDemand``);
    ``instrument``: what traces a client library before a target first uses it (``BuildContext``)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from certpush.adapters.aws_clients import aws_client
    from certpush.providers.definition import BuildContext
    from certpush.providers.registry import REGISTRY
    from certpush.snapstart import snapshotting

    @cache
    def secrets() -> SecretsProvider:  # only a target that needs a secret pays for the client
        return SecretsProvider(boto3_client=aws_client("secretsmanager"))

    def fetch(name: str) -> Any:
        return secrets().get(name, transform="json", max_age=settings.material_cache_seconds)

    def fetch_fresh(name: str) -> Any:
        return secrets().get(name, transform="json", force_fetch=True)

    registry = registry or REGISTRY
    context = BuildContext(
        fetch_secret=fetch, fetch_fresh_secret=fetch_fresh, rate_limiter=rate_limiter(settings), instrument=instrument
    )
    targets = TargetsOnDemand(registry, settings, context)
    if snapshotting():  # the snapshot holds every target's modules; a restore drops these objects
        list(targets)
    return targets


def rate_limiter(settings: Settings, registry: TargetRegistry | None = None) -> WindowRateLimiter:
    """The push worker's limiter on AWS: each Lambda environment paces its calls under 1/N of every quota,
    N = ``PUSH_WORKER_MAX_CONCURRENCY`` (the push queue's ``MaximumConcurrency``: at most N environments run
    pushes at once), so all of them together stay under the account's quota.

    Why a static share rather than a bucket shared through DynamoDB: a shared bucket costs a conditional
    write (and its latency, and its own throttling on one hot item) before every target API call, and a new
    failure mode in the middle of a push; the share costs nothing per call and cannot overshoot. Its price:
    while fewer than N environments push, each still keeps to 1/N of a burst quota; a lone push is not
    slowed (an empty window lets its calls go at once), and a mass renewal keeps all N busy."""
    from certpush.adapters.rate_limiter import WindowRateLimiter
    from certpush.logic.rate_limits import QuotaTable
    from certpush.providers.registry import REGISTRY

    table = QuotaTable((registry or REGISTRY).quotas(), settings.rate_limits, share=1 / settings.push_environments)
    return WindowRateLimiter(table)


def build_worker(settings: Settings, instrument: Callable[[str], None] | None = None) -> PushWorker:
    from certpush.logic.push import PushWorker, RetryPolicy

    tables = dynamodb()
    return PushWorker(
        store=certificate_store(settings, tables),
        records=DynamoDBRecordsRepository(settings.records_table, tables),
        targets=build_targets(settings, instrument=instrument),
        clock=SystemClock(),
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            base_seconds=settings.retry_base_seconds,
            max_seconds=settings.retry_max_seconds,
            settle_seconds=settings.push_settle_seconds,
        ),
        lease_seconds=settings.push_lease_seconds,
    )


def build_notifier(settings: Settings) -> Notifier:
    from certpush.adapters.eventbridge_sns import EventBridgePublisher
    from certpush.logic.notify import Notifier

    return Notifier(
        records=DynamoDBRecordsRepository(settings.records_table),
        publisher=EventBridgePublisher(settings.event_bus_name, settings.notify_topic_arn),
    )


def build_dashboard(settings: Settings) -> Dashboard:
    from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
    from certpush.adapters.eventbridge_sns import EventBridgePublisher
    from certpush.logic.dashboard import Dashboard

    tables = dynamodb()
    return Dashboard(
        store=certificate_store(settings, tables),
        records=DynamoDBRecordsRepository(settings.records_table, tables),
        pushes=DynamoDBPushQuery(settings.records_table, tables),
        publisher=EventBridgePublisher(settings.event_bus_name),
        clock=SystemClock(),
        expiry_warning_days=settings.expiry_warning_days,
        reuse_seconds=1.0,  # the summary and the list of one page load share one read
        hint_for=_hint_for,
        **cursor_key(settings),
    )


def _hint_for(provider: str, reason: str | None) -> str | None:
    """The providers' hint table, imported when a record first needs a hint (not at the records API's
    cold start: the registry imports every provider's definitions)."""
    from certpush.providers.registry import hint_for

    return hint_for(provider, reason)


def cursor_key(settings: Settings) -> dict[str, bytes]:
    """The records API's cursor key from settings, if one is set (else the Dashboard makes its own)."""
    key = settings.records_api_cursor_key
    return {"cursor_key": key.get_secret_value().encode()} if key is not None else {}


def build_expiry_warnings(settings: Settings) -> ExpiryWarnings:
    from certpush.adapters.eventbridge_sns import EventBridgePublisher
    from certpush.logic.expiry import ExpiryWarnings

    tables = dynamodb()
    return ExpiryWarnings(
        store=certificate_store(settings, tables),
        records=DynamoDBRecordsRepository(settings.records_table, tables),
        publisher=EventBridgePublisher(settings.event_bus_name, settings.notify_topic_arn),
        clock=SystemClock(),
        warning_days=settings.expiry_warning_days,
    )


def build_sweeper(settings: Settings) -> Sweeper:
    from certpush.adapters.sqs_queue import SqsPushQueue
    from certpush.logic.sweeper import Sweeper

    return Sweeper(
        records=DynamoDBRecordsRepository(settings.records_table),
        queue=SqsPushQueue(settings.push_queue_url),
        clock=SystemClock(),
        stuck_after=timedelta(seconds=settings.stuck_after_seconds),
        max_sweeps=settings.stuck_max_sweeps,
    )


def build_push_consumer(
    settings: Settings, metrics: Any | None = None, instrument: Callable[[str], None] | None = None
) -> PushConsumer:
    """``instrument``: the handler's tracing of a client library, done when a target first needs it."""
    from certpush.adapters.consumers import PushConsumer
    from certpush.adapters.sqs_queue import SqsPushQueue

    return PushConsumer(
        build_worker(settings, instrument),
        SqsPushQueue(settings.push_queue_url),
        metrics=metrics,
        push_time_budget_ms=settings.push_time_budget_seconds * 1000,
        concurrency=settings.push_concurrency,
    )
