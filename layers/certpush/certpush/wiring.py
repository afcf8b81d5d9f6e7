"""Composition root: real adapters built from settings. Handlers and the CLI call these once;
tests build the domain objects with fakes instead.

What a function needs is imported inside the function that builds it (the Huawei Cloud HTTP
client, cryptography, the push targets), so each handler's cold start pays only for what it runs."""

from __future__ import annotations

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
    from certpush.providers.registry import TargetRegistry


def certificate_store(settings: Settings) -> DynamoDBCertificateStore:
    from certpush.adapters.certificate_store import DynamoDBCertificateStore

    return DynamoDBCertificateStore(
        settings.inventory_table,
        secrets_prefix=settings.secrets_prefix,
        kms_key_id=settings.certificate_kms_key_id,
        material_max_age=settings.material_cache_seconds,
    )


def build_validator(settings: Settings) -> Validator:
    from certpush.adapters.dynamodb_replays import DynamoDBReplayLog
    from certpush.adapters.policy_store import DynamoDBPolicyStore
    from certpush.adapters.sqs_queue import SqsPushQueue
    from certpush.logic.validation import Validator
    from certpush.providers.registry import REGISTRY

    return Validator(
        store=certificate_store(settings),
        policies=DynamoDBPolicyStore(settings.inventory_table),
        records=DynamoDBRecordsRepository(settings.records_table),
        queue=SqsPushQueue(settings.push_queue_url),
        clock=SystemClock(),
        catalog=REGISTRY,
        replays=DynamoDBReplayLog(settings.records_table),
    )


def build_targets(settings: Settings, registry: TargetRegistry | None = None) -> dict[tuple[str, str], PushTarget]:
    """The adapter of every registered target this deployment is configured for."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from certpush.adapters.aws_clients import aws_client
    from certpush.providers.definition import BuildContext
    from certpush.providers.registry import REGISTRY

    @cache
    def secrets() -> SecretsProvider:  # only a target that needs a secret pays for the client
        return SecretsProvider(boto3_client=aws_client("secretsmanager"))

    def fetch(name: str) -> Any:
        return secrets().get(name, transform="json", max_age=settings.material_cache_seconds)

    def fetch_fresh(name: str) -> Any:
        return secrets().get(name, transform="json", force_fetch=True)

    context = BuildContext(fetch_secret=fetch, fetch_fresh_secret=fetch_fresh, rate_limiter=rate_limiter(settings))
    targets: dict[tuple[str, str], PushTarget] = {}
    for definition in registry or REGISTRY:
        target = definition.build_from(settings.target_settings(definition.settings), context)
        if target is not None:
            targets[(definition.provider, definition.service)] = target
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


def build_worker(settings: Settings) -> PushWorker:
    from certpush.logic.push import PushWorker, RetryPolicy

    return PushWorker(
        store=certificate_store(settings),
        records=DynamoDBRecordsRepository(settings.records_table),
        targets=build_targets(settings),
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

    return Dashboard(
        store=certificate_store(settings),
        records=DynamoDBRecordsRepository(settings.records_table),
        pushes=DynamoDBPushQuery(settings.records_table),
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

    return ExpiryWarnings(
        store=certificate_store(settings),
        records=DynamoDBRecordsRepository(settings.records_table),
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


def build_push_consumer(settings: Settings, metrics: Any | None = None) -> PushConsumer:
    from certpush.adapters.consumers import PushConsumer
    from certpush.adapters.sqs_queue import SqsPushQueue

    return PushConsumer(
        build_worker(settings),
        SqsPushQueue(settings.push_queue_url),
        metrics=metrics,
        push_time_budget_ms=settings.push_time_budget_seconds * 1000,
        concurrency=settings.push_concurrency,
    )
