"""Which certpush a command talks to, by one rule:

    --stack NAME (or CERTPUSH_STACK)  a certpush stack on AWS (its CloudFormation outputs name its
                                      tables, queues and bus), or the embedded AWS stack of certpush-dev
    otherwise                         the one-machine host in the home: --home DIR, else CERTPUSH_HOME,
                                      else ${XDG_STATE_HOME:-~/.local/state}/certpush

A backend hands commands the ports (``certpush.ports``) and the domain objects built on them, so a
command never builds an adapter itself. On a stack, the functions in AWS do the work; on the home,
nothing else may be running, so a command that starts an issuance drives it in its own process
(``settle``) when it is asked to wait or when no ``certpush serve`` runs on the home."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from certpush.errors import CertpushError
from certpush.logic.dashboard import Dashboard
from certpush.logic.issuances import Issuances
from certpush.ports import CertificateStore, Clock, IssuancePublisher, PolicyStore, RecordsRepository
from certpush_cli.logic.dead_letters import DeadLetters
from certpush_cli.logic.retract import Retractor

if TYPE_CHECKING:
    from certpush.settings import Settings
    from certpush_cli.event_replay import ReplayOutcome
    from certpush_cli.host.home import Home
    from certpush_cli.host.wiring import Host


class Backend(Protocol):
    description: str
    retired_material_note: str | None
    """What happens to a REVOKED or DELETED version's key (None: it stays, encrypted)."""

    @property
    def store(self) -> CertificateStore: ...

    @property
    def policies(self) -> PolicyStore: ...

    @property
    def records(self) -> RecordsRepository: ...

    @property
    def publisher(self) -> IssuancePublisher: ...

    @property
    def issuances(self) -> Issuances: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def expiry_warning_days(self) -> int:
        """Days before its end a certificate counts as expiring (ExpiryWarningDays, expiry_warning_days)."""
        ...

    def dashboard(self) -> Dashboard: ...

    def retractor(self) -> Retractor: ...

    def dead_letters(self) -> DeadLetters: ...

    def unit_of_work(self) -> AbstractContextManager[object]:
        """Writes made inside commit together (the home), or as they go (a stack)."""
        ...

    def settle(self, issuance_id: str, timeout: float, *, waiting: bool) -> AbstractContextManager[bool]:
        """Around waiting for an issuance: the home drives it in this process when ``waiting`` or
        when no ``certpush serve`` runs there (the block gets True, and without ``waiting`` its end
        waits until the issuance is final); a stack's functions need no help (False)."""
        ...

    def close(self) -> None: ...


class StackBackend:
    def __init__(self, stack: str) -> None:
        from certpush.adapters.certificate_store import RETIRED_MATERIAL_RECOVERY_DAYS
        from certpush_cli.stack import settings_for_stack

        self.stack = stack
        self.description = f"stack {stack}"
        self.retired_material_note: str | None = (
            f"its key is deleted from Secrets Manager in {RETIRED_MATERIAL_RECOVERY_DAYS} days"
        )
        self.settings: Settings = settings_for_stack(stack)

    @cached_property
    def store(self) -> CertificateStore:
        from certpush.wiring import certificate_store

        return certificate_store(self.settings)

    @cached_property
    def policies(self) -> PolicyStore:
        from certpush.adapters.policy_store import DynamoDBPolicyStore

        return DynamoDBPolicyStore(self.settings.inventory_table)

    @cached_property
    def records(self) -> RecordsRepository:
        from certpush.adapters.dynamodb_records import DynamoDBRecordsRepository

        return DynamoDBRecordsRepository(self.settings.records_table)

    @cached_property
    def publisher(self) -> IssuancePublisher:
        from certpush.adapters.eventbridge_sns import EventBridgePublisher

        return EventBridgePublisher(self.settings.event_bus_name)

    @cached_property
    def issuances(self) -> Issuances:
        return Issuances(records=self.records, publisher=self.publisher, clock=self.clock)

    @cached_property
    def clock(self) -> Clock:
        from certpush.clock import SystemClock

        return SystemClock()

    @property
    def expiry_warning_days(self) -> int:
        return self.settings.expiry_warning_days

    def dashboard(self) -> Dashboard:
        from certpush.wiring import build_dashboard

        return build_dashboard(self.settings)

    def retractor(self) -> Retractor:
        from certpush.wiring import build_targets

        return Retractor(records=self.records, targets=build_targets(self.settings), clock=self.clock)

    def dead_letters(self) -> DeadLetters:
        from certpush.adapters.aws_clients import aws_client
        from certpush.adapters.sqs_queue import SqsPushQueue
        from certpush_cli.adapters.sqs_dead_letters import SqsDeadLetterQueue
        from certpush_cli.stack import stack_outputs

        outputs = stack_outputs(self.stack)
        sqs = aws_client("sqs")
        return DeadLetters(
            dead=SqsDeadLetterQueue(outputs["PushDeadLetterQueueUrl"], sqs),
            queue=SqsPushQueue(outputs["PushQueueUrl"], sqs),
        )

    def follow_event_replay(
        self, name: str, since: datetime, until: datetime, timeout: float, on_line: Callable[[str], None]
    ) -> ReplayOutcome:
        """``replay --events --wait``: what the replay of the archived events did, per issuance (only a
        stack keeps an event archive)."""
        from certpush.adapters.aws_clients import aws_client
        from certpush.adapters.dynamodb_pushes import DynamoDBPushQuery
        from certpush.adapters.dynamodb_replays import DynamoDBReplayLog
        from certpush_cli.event_replay import follow_replay

        table = self.settings.records_table
        return follow_replay(
            name, since, until, timeout, events=aws_client("events"), replays=DynamoDBReplayLog(table),
            records=self.records, pushes=DynamoDBPushQuery(table), on_line=on_line,
        )  # fmt: skip

    def unit_of_work(self) -> AbstractContextManager[object]:
        return nullcontext()

    def settle(self, issuance_id: str, timeout: float, *, waiting: bool) -> AbstractContextManager[bool]:
        return nullcontext(False)

    def close(self) -> None:
        return None


class HomeBackend:
    def __init__(self, home: Home, environ: dict[str, str] | None = None) -> None:
        from certpush_cli.host.wiring import Host

        self.home = home
        self.description = f"home {home.path}"
        self.retired_material_note: str | None = None
        self.host: Host = Host.open(home, environ)

    @property
    def store(self) -> CertificateStore:
        return self.host.store

    @property
    def policies(self) -> PolicyStore:
        return self.host.policies

    @property
    def records(self) -> RecordsRepository:
        return self.host.records

    @property
    def publisher(self) -> IssuancePublisher:
        return self.host.inbox

    @property
    def issuances(self) -> Issuances:
        return self.host.issuances

    @property
    def clock(self) -> Clock:
        return self.host.clock

    @property
    def expiry_warning_days(self) -> int:
        return self.host.config.expiry_warning_days

    def simulate(self) -> None:
        """Points the targets at the home's simulators (started when they do not run), if the home
        is simulated; before anything builds a target."""
        if not self.host.config.simulate or self.host.simulation is not None:
            return
        from certpush_cli.host import simulators

        simulation = simulators.ensure_running(self.home)
        os.environ.update(simulation.environment())  # boto3 reads these when it makes a client
        self.host.simulation = simulation

    def dashboard(self) -> Dashboard:
        return self.host.dashboard

    def retractor(self) -> Retractor:
        self.simulate()
        return self.host.retractor

    def dead_letters(self) -> DeadLetters:
        return DeadLetters(dead=self.host.dead_letters, queue=self.host.queue)

    def unit_of_work(self) -> AbstractContextManager[object]:
        return self.host.database.transaction()

    def serve_running(self) -> bool:
        from certpush_cli.host.serve_lock import serve_pid

        return serve_pid(self.home) is not None

    @contextmanager
    def settle(self, issuance_id: str, timeout: float, *, waiting: bool) -> Iterator[bool]:
        if not waiting and self.serve_running():
            yield False  # `certpush serve` takes it from here
            return
        from certpush_cli.host.runtime import HostRuntime

        self.simulate()
        stop = threading.Event()
        failure: list[BaseException] = []

        def drive() -> None:
            try:
                HostRuntime(self.host).drive(issuance_id, timeout, stop)
            except BaseException as exc:  # shown by the command, after the wait
                failure.append(exc)

        driver = threading.Thread(target=drive, name="drive", daemon=True)
        issuances = self.host.issuances
        polling = issuances.sleep

        def between_polls(seconds: float) -> None:
            # the command's wait polls the issuance: once the driver is done, it will not come
            if not driver.is_alive() and self.host.records.get_issuance(issuance_id) is None:
                raise failure[0] if failure else CertpushError(self._not_validated(issuance_id))
            polling(seconds)

        issuances.sleep = between_polls
        driver.start()
        try:
            yield True
        finally:
            issuances.sleep = polling
            if not waiting:  # nobody polls: the command waits for its pushes here
                driver.join(timeout)
            stop.set()
            driver.join()
        if failure:
            raise failure[0]

    def _not_validated(self, issuance_id: str) -> str:
        row = (
            self.host.database.connection()
            .execute("SELECT error FROM inbox WHERE issuance_id = ? AND failed = 1", (issuance_id,))
            .fetchone()
        )
        if row is not None:
            return f"issuance {issuance_id} could not be validated: {row['error']}"
        return f"issuance {issuance_id} has no target to push to (no push policy matches)"

    def close(self) -> None:
        self.host.close()


def open_backend(stack: str | None, home: Path | None) -> Backend:
    """The one rule: a stack when one is named, else the home."""
    if stack and home:  # options that exclude each other: a usage error (exit 2), as everywhere
        from certpush_cli.exit_codes import ExitCode, Failure

        raise Failure(
            f"both a stack ({stack}, from --stack or CERTPUSH_STACK) and a home ({home}, from --home or "
            "CERTPUSH_HOME) are named; hint: unset one of them",
            ExitCode.USAGE,
        )
    if stack:
        return StackBackend(stack)
    from certpush_cli.host.home import Home

    return HomeBackend(Home.open(home))


@contextmanager
def backend(stack: str | None, home: Path | None) -> Iterator[Backend]:
    opened = open_backend(stack, home)
    try:
        yield opened
    finally:
        opened.close()
