"""Composition root: real adapters built from settings. Handlers and the CLI call these once;
tests build the domain objects with fakes instead.

What only the push worker needs (the Huawei Cloud HTTP client, idempotency) is imported inside the
functions that build it, so the validator's and the notifier's cold starts do not pay for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from certpush.adapters.aws_clients import aws_client
from certpush.adapters.certificate_store import DynamoDBCertificateStore
from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository
from certpush.adapters.eventbridge_sns import EventBridgePublisher
from certpush.adapters.policy_store import DynamoDBPolicyStore
from certpush.adapters.sqs_queue import SqsPushQueue
from certpush.logic.notify import Notifier
from certpush.logic.push import PushWorker, RetryPolicy
from certpush.logic.sweeper import Sweeper
from certpush.logic.validation import Validator
from certpush.ports import PushTarget
from certpush.settings import Settings
from certpush.targets.definition import BuildContext
from certpush.targets.registry import REGISTRY, TargetRegistry

if TYPE_CHECKING:
    from certpush.adapters.consumers import PushConsumer
    from certpush.logic.dashboard import Dashboard
    from certpush.logic.expiry import ExpiryWarnings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def certificate_store(settings: Settings) -> DynamoDBCertificateStore:
    return DynamoDBCertificateStore(
        settings.inventory_table,
        secrets_prefix=settings.secrets_prefix,
        kms_key_id=settings.certificate_kms_key_id,
        material_max_age=settings.material_cache_seconds,
    )


def build_validator(settings: Settings) -> Validator:
    return Validator(
        store=certificate_store(settings),
        policies=DynamoDBPolicyStore(settings.inventory_table),
        records=DynamoDBRecordsRepository(settings.records_table),
        queue=SqsPushQueue(settings.push_queue_url),
        clock=SystemClock(),
        catalog=REGISTRY,
    )


def build_targets(settings: Settings, registry: TargetRegistry = REGISTRY) -> dict[tuple[str, str], PushTarget]:
    """The adapter of every registered target this deployment is configured for."""

    @cache
    def secrets() -> SecretsProvider:  # only a target that needs a secret pays for the client
        return SecretsProvider(boto3_client=aws_client("secretsmanager"))

    def fetch(name: str) -> Any:
        return secrets().get(name, transform="json", max_age=settings.material_cache_seconds)

    def fetch_fresh(name: str) -> Any:
        return secrets().get(name, transform="json", force_fetch=True)

    context = BuildContext(fetch_secret=fetch, fetch_fresh_secret=fetch_fresh)
    targets: dict[tuple[str, str], PushTarget] = {}
    for definition in registry:
        target = definition.build_from(settings.target_settings(definition.settings), context)
        if target is not None:
            targets[(definition.provider, definition.service)] = target
    return targets


def build_worker(settings: Settings) -> PushWorker:
    return PushWorker(
        store=certificate_store(settings),
        records=DynamoDBRecordsRepository(settings.records_table),
        targets=build_targets(settings),
        clock=SystemClock(),
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            base_seconds=settings.retry_base_seconds,
            max_seconds=settings.retry_max_seconds,
        ),
    )


def build_notifier(settings: Settings) -> Notifier:
    return Notifier(
        records=DynamoDBRecordsRepository(settings.records_table),
        publisher=EventBridgePublisher(settings.event_bus_name, settings.notify_topic_arn),
    )


def build_dashboard(settings: Settings) -> Dashboard:
    from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
    from certpush.logic.dashboard import Dashboard

    return Dashboard(
        store=certificate_store(settings),
        records=DynamoDBRecordsRepository(settings.records_table),
        pushes=DynamoDBPushQuery(settings.records_table),
        publisher=EventBridgePublisher(settings.event_bus_name),
        clock=SystemClock(),
        expiry_warning_days=settings.expiry_warning_days,
    )


def build_expiry_warnings(settings: Settings) -> ExpiryWarnings:
    from certpush.logic.expiry import ExpiryWarnings

    return ExpiryWarnings(
        store=certificate_store(settings),
        records=DynamoDBRecordsRepository(settings.records_table),
        publisher=EventBridgePublisher(settings.event_bus_name, settings.notify_topic_arn),
        clock=SystemClock(),
        warning_days=settings.expiry_warning_days,
    )


def build_sweeper(settings: Settings) -> Sweeper:
    return Sweeper(
        records=DynamoDBRecordsRepository(settings.records_table),
        queue=SqsPushQueue(settings.push_queue_url),
        clock=SystemClock(),
        stuck_after=timedelta(seconds=settings.stuck_after_seconds),
        max_sweeps=settings.stuck_max_sweeps,
    )


def build_push_consumer(settings: Settings, metrics: Any | None = None) -> PushConsumer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from certpush.adapters.consumers import PushConsumer

    persistence = (
        DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=aws_client("dynamodb"))
        if settings.idempotency_table
        else None
    )
    return PushConsumer(
        build_worker(settings), SqsPushQueue(settings.push_queue_url), persistence=persistence, metrics=metrics
    )
