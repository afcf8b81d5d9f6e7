"""The embedded stack: everything certpush needs, on one machine, with no cloud account.

    with EmbeddedStack(root=Path(".")) as stack:
        ...  # AWS_ENDPOINT_URL now points at moto; handlers run on in-process pollers

Resources come from template.yaml (see provision.py); the stack's outputs are published as a
CloudFormation stack in moto, so the CLI finds them exactly as it finds a deployed stack's."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import boto3

from certpush.adapters.aws_clients import shared_session
from certpush.providers.registry import REGISTRY
from certpush_cli.credentials import provider_credentials
from certpush_dev.local.aws_hooks import AwsCallHooks
from certpush_dev.local.iam_conditions import ResourceTagGuard
from certpush_dev.local.pollers import (
    AWS_ASYNC_RETRY_DELAYS,
    AsyncInvoker,
    EventBridgeTapPoller,
    Invoker,
    SchedulePoller,
    SqsPoller,
    StreamPoller,
    load_handler,
)
from certpush_dev.local.provision import ProvisionedStack, Provisioner
from certpush_dev.local.template import load_template
from certpush_emulators.processes import EmulatorProcess, all_processes

log = logging.getLogger("certpush_dev.local")

DEFAULT_REGION = "us-east-1"
DEFAULT_STACK = "certpush"

# what every handler sees on the embedded stack, beside the template's own variables
LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "certpush-local",
    "AWS_SECRET_ACCESS_KEY": "certpush-local",
    "AWS_SESSION_TOKEN": "certpush-local",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


def embedded_emulators() -> list[EmulatorProcess]:
    """The emulators the embedded stack runs in its process, beside moto: every emulator package's that
    has an in-process form (``certpush_emulators.processes``)."""
    return [emulator for emulator in all_processes() if emulator.in_process is not None]


def local_client_environment(
    endpoint_url: str,
    region: str = DEFAULT_REGION,
    emulator_environment: Mapping[str, str] | None = None,
    stack: str = DEFAULT_STACK,
) -> dict[str, str]:
    """The variables a shell needs to run the CLI against the embedded stack (``certpush retract`` calls
    the targets itself: ``emulator_environment``, what each emulator declares, points it at them).
    CERTPUSH_STACK names the stack: without it the CLI talks to the one-machine host's home instead."""
    return {
        "CERTPUSH_STACK": stack,
        **(emulator_environment or {}),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        **{k: v for k, v in LOCAL_ENVIRONMENT.items() if k.startswith("AWS_")},
    }


class PortInUseError(OSError):
    pass


def _ensure_free(port: int, what: str) -> None:
    """moto binds in a thread of its own and would not say that the port is taken: ask first,
    so that we never provision into somebody else's emulator."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the servers themselves bind (http.server and werkzeug set allow_reuse_address): connections
        # of a stack that just stopped, left in TIME_WAIT, do not make the port "in use"
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUseError(f"port {port} for {what} is in use (another embedded stack?)") from exc


class EmbeddedStack:
    def __init__(
        self,
        root: Path,
        port: int = 0,
        emulator_ports: Mapping[str, int] | None = None,
        stack_name: str = DEFAULT_STACK,
        region: str = DEFAULT_REGION,
        parameters: dict[str, str] | None = None,
        worker_concurrency: int | None = None,
        async_retry_delays: Sequence[float] = AWS_ASYNC_RETRY_DELAYS,
        run_schedules: bool = False,
        batching_windows: bool = True,
        rate_limits: bool = True,
    ) -> None:
        """``async_retry_delays``: Lambda's delays before the retries of an asynchronous invocation
        (AWS: about 60 and 120 s; tests pass zeros). ``run_schedules``: run ``Schedule`` events on
        their rate; otherwise only ``run_schedule()`` fires them. ``batching_windows=False``: SQS event
        sources invoke without waiting out their ``MaximumBatchingWindowInSeconds`` (a window of 0, which
        AWS allows too: tests that do not test batching would otherwise wait a window per push).
        ``rate_limits=False``: the push worker does not pace its calls under the targets' quotas (the
        emulators do not throttle unless asked, and ACM's 1 import a second per region would add minutes
        to a suite of many pushes into one region); as deployed, it does.
        ``emulator_ports``: provider -> the port of its emulator (default: any free port)."""
        self.root = root
        self.port = port
        self.stack_name = stack_name
        self.region = region
        self.parameters = {"RetryBaseSeconds": "1", **(parameters or {})}
        self.worker_concurrency = worker_concurrency  # None: the template's ScalingConfig, as on Lambda
        self.async_retry_delays = tuple(async_retry_delays)
        self.run_schedules = run_schedules
        self.batching_windows = batching_windows
        self.rate_limits = rate_limits
        self.schedules: dict[str, SchedulePoller] = {}
        self.sqs_pollers: list[SqsPoller] = []
        self.emulator_ports = dict(emulator_ports or {})
        self.emulator_credentials = {e.provider: e.make_credentials() for e in embedded_emulators()}
        self.emulators: dict[str, Any] = {}
        """Each provider's emulator once started (e.g. ``emulators["huaweicloud"]``: the Huawei Cloud simulator)."""
        self._server: Any = None
        self._pollers: list[Any] = []
        self._saved_env: dict[str, str | None] = {}
        self.endpoint_url = ""
        self.provisioned: ProvisionedStack | None = None
        self.invokers: dict[str, Invoker] = {}
        self.aws_calls = AwsCallHooks()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> EmbeddedStack:
        """Starts everything, or nothing: a failure stops what had started and is raised."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> EmbeddedStack:
        _ensure_free(self.port, "the AWS emulator")
        host, self.port = self._start_moto()
        self.endpoint_url = f"http://{host}:{self.port}"
        parameters: dict[str, str] = {}
        for emulator in embedded_emulators():
            assert emulator.in_process is not None
            running = emulator.in_process(
                self.emulator_ports.get(emulator.provider, 0), self.emulator_credentials[emulator.provider]
            )
            self.emulators[emulator.provider] = running
            parameters.update(emulator.template_parameters(running.url))
        self._set_environment(self.client_environment())
        self._set_environment(LOCAL_ENVIRONMENT)
        session = boto3.Session(region_name=self.region)
        template = load_template(self.root / "template.yaml")
        parameters.update(self.parameters)
        self.provisioned = Provisioner(session, self.endpoint_url, self.root).provision(
            template, self.stack_name, parameters
        )
        self._publish_outputs(session, self.provisioned)
        self._store_emulator_credentials(session, self.provisioned)
        self.aws_calls.guards.append(ResourceTagGuard(template, self.endpoint_url, self.region))
        self.aws_calls.install(shared_session(), self.endpoint_url)
        self._start_functions(session, self.provisioned)
        return self

    def stop(self) -> None:
        for poller in self._pollers:
            poller.stop()
        self._pollers.clear()
        self.aws_calls.uninstall()
        for running in self.emulators.values():
            running.stop()
        self.emulators.clear()
        if self._server is not None:
            self._stop_moto(self._server)
            self._server = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client_environment(self) -> dict[str, str]:
        """What a shell needs to run the CLI against this stack (``certpush-dev stack env``)."""
        declared = {e.provider: e for e in embedded_emulators()}
        emulators = {
            key: value
            for provider, running in self.emulators.items()
            for key, value in declared[provider].environment(running.url).items()
        }
        return local_client_environment(self.endpoint_url, self.region, emulators, self.stack_name)

    # -- steps -----------------------------------------------------------------------------------
    def _start_moto(self) -> tuple[str, int]:
        """moto in a process of its own (moto_process.py says why); its errors go to a log file."""
        self._moto_log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in _stop_moto
        self._server = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
            [sys.executable, "-m", "certpush_emulators.aws.moto_process", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._moto_log,
            text=True,
        )
        assert self._server.stdout is not None
        line = self._server.stdout.readline().split()  # blocks until it listens or exits
        if line[:1] != ["listening"]:
            self._server.wait(timeout=10)
            self._moto_log.seek(0)
            raise PortInUseError(f"the AWS emulator did not start: {self._moto_log.read().strip()[-2000:]}")
        return line[1], int(line[2])

    def emulator_cpu_seconds(self) -> float:
        """CPU time moto's process has used so far (user + system; 0 where /proc is missing)."""
        if self._server is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self._server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def _stop_moto(self, process: subprocess.Popen[str]) -> None:
        assert process.stdin is not None
        process.stdin.close()  # the server's signal to stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self._moto_log.close()

    def _set_environment(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _publish_outputs(self, session: boto3.Session, stack: ProvisionedStack) -> None:
        """A CloudFormation stack holding only the outputs: the CLI reads them like a deployed stack's."""
        template = {
            "Resources": {"Outputs": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": f"/{stack.name}/local-outputs", "Type": "String", "Value": json.dumps(stack.outputs)}}},
            "Outputs": {name: {"Value": value} for name, value in stack.outputs.items()},
        }  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session.client("cloudformation", endpoint_url=self.endpoint_url).create_stack(
                StackName=stack.name, TemplateBody=json.dumps(template)
            )

    def _store_emulator_credentials(self, session: boto3.Session, stack: ProvisionedStack) -> None:
        """The credentials each emulator accepts, in the secret its provider's settings name (the stack
        output of ``CREDENTIALS``), as an operator stores the real ones after deploying."""
        declared = provider_credentials()
        for provider, credentials in self.emulator_credentials.items():
            output = declared[provider].stack_output if provider in declared else None
            secret_id = stack.outputs.get(output) if output else None
            if not credentials or not secret_id:
                continue
            session.client("secretsmanager", endpoint_url=self.endpoint_url).put_secret_value(
                SecretId=secret_id, SecretString=json.dumps(credentials)
            )

    def _start_functions(self, session: boto3.Session, stack: ProvisionedStack) -> None:
        sqs = session.client("sqs", endpoint_url=self.endpoint_url)
        streams = session.client("dynamodbstreams", endpoint_url=self.endpoint_url)
        for spec in stack.functions:
            self._set_environment(spec.environment)
            if "PUSH_WORKER_MAX_CONCURRENCY" in spec.environment:
                # every invocation runs in this one process and shares its rate limiter: it takes the
                # whole of each quota, not Lambda's 1/N per environment (certpush.wiring.rate_limiter)
                self._set_environment({"PUSH_WORKER_MAX_CONCURRENCY": "1"})
                if not self.rate_limits:
                    unpaced = {group: "none" for group, _ in REGISTRY.quotas()}
                    self._set_environment({"RATE_LIMITS": json.dumps(unpaced)})
            invoker = Invoker(spec, load_handler(spec))
            self.invokers[spec.logical_id] = invoker
            asynchronous: AsyncInvoker | None = None
            if any(source.kind in ("eventbridge", "schedule") for source in spec.sources):
                asynchronous = AsyncInvoker(sqs, invoker, self.async_retry_delays)
                asynchronous.start()
                self._pollers.append(asynchronous)
            for source in spec.sources:
                if source.kind == "sqs":
                    poller: Any = SqsPoller(
                        sqs, source, invoker, self.region, self.worker_concurrency, self.batching_windows
                    )
                    self.sqs_pollers.append(poller)
                elif source.kind == "stream":
                    poller = StreamPoller(streams, sqs, source, invoker, self.region)
                elif source.kind == "schedule" and asynchronous is not None:
                    poller = SchedulePoller(source, asynchronous, stack.account, self.region)
                    self.schedules[spec.logical_id] = poller
                    if not self.run_schedules:
                        continue
                elif asynchronous is not None:
                    poller = EventBridgeTapPoller(sqs, source, asynchronous, stack.account)
                poller.start()
                self._pollers.append(poller)

    def run_schedule(self, function_logical_id: str) -> Future[Any]:
        """Fires a function's ``Schedule`` event now, as EventBridge would on its rate."""
        return self.schedules[function_logical_id].fire()
