"""The one-machine host's runtime over a real home (SQLite), with fakes for the clouds: a validation
commits its records and messages together or not at all; an outcome is notified once; webhook
deliveries are retried and recorded; what a dead process had claimed comes back at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from certpush.errors import TransientPushError
from certpush.models.domain import CertificateMaterial, PushPolicy, TargetSpec
from certpush.models.events import CertificateIssuedDetail
from certpush.models.messages import PushMessage
from certpush.providers.registry import REGISTRY
from certpush_cli.host.home import Home
from certpush_cli.host.runtime import HostRuntime
from certpush_cli.host.webhooks import WebhookDeliverer
from certpush_cli.host.wiring import Host
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate
from tests.fakes import ScriptedTarget

pytestmark = pytest.mark.integration

WEBHOOK = '[[webhooks]]\nname = "ops"\nurl = "http://127.0.0.1:9/hook"\nsecret = "0123456789abcdef"\n'


@pytest.fixture
def host(tmp_path: Path) -> Any:
    home = Home.open(tmp_path / "home")
    home.config_file.write_text("retry_base_seconds = 0\n" + WEBHOOK)
    home.config_file.chmod(0o600)
    opened = Host.open(home, environ={})
    opened.__dict__["targets"] = {("huaweicloud", "waf"): ScriptedTarget("huaweicloud", "waf")}
    opened.policies.put_policy(
        PushPolicy(name="all", pattern="*", targets=[TargetSpec(provider="huaweicloud", service="waf",
                                                                regions=["cn-north-4", "ap-southeast-1"])])
    )  # fmt: skip
    yield opened
    opened.close()


def _import(host: Any, certificate_id: str = "shop") -> str:
    made = make_certificate(f"{certificate_id}.example.com")
    material = CertificateMaterial(
        certificate_pem=made.certificate_pem, chain_pem=made.chain_pem, private_key_pem=SecretStr(made.private_key_pem)
    )
    with host.database.transaction():
        import_certificate(host.store, host.clock, material, certificate_id, catalog=REGISTRY)
        return str(host.inbox.certificate_issued(CertificateIssuedDetail(certificate_id=certificate_id)))


def _count(host: Any, table: str) -> int:
    return int(host.database.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


class _BrokenQueue:
    def __init__(self, real: Any) -> None:
        self.real = real

    def send(self, messages: list[PushMessage]) -> None:
        self.real.send(messages)
        raise RuntimeError("the process died here")


def test_a_validation_commits_its_records_and_messages_together_or_not_at_all(host: Any) -> None:
    issuance_id = _import(host)
    real_queue = host.queue
    host.validator.queue = _BrokenQueue(real_queue)

    assert HostRuntime(host).validate_due() is True  # it failed: noted on the event, nothing else written
    assert (_count(host, "pushes"), _count(host, "queue"), _count(host, "issuances")) == (0, 0, 0)
    assert host.inbox.pending(issuance_id) == 1

    host.validator.queue = real_queue
    host.database.connection().execute("UPDATE inbox SET visible_at = 0")
    assert HostRuntime(host).validate_due() is True
    assert (_count(host, "pushes"), _count(host, "queue"), host.inbox.pending()) == (2, 2, 0)


def test_an_issuance_driven_here_is_pushed_notified_once_and_delivered_with_retries(host: Any) -> None:
    answers = [500, 200, 200, 200]
    sent: list[dict[str, str]] = []

    def sender(hook: Any, delivery: Any, body: bytes, headers: dict[str, str]) -> int:
        sent.append({**headers, "body": body.decode()})
        return answers.pop(0)

    runtime = HostRuntime(host, deliverer=WebhookDeliverer(host.database, host.config.webhooks, sender=sender))
    issuance_id = _import(host)

    runtime.drive(issuance_id, timeout=30)

    assert {r.status.value for r in host.records.list_current("shop")} == {"SUCCEEDED"}
    assert runtime.notify_due() == 0  # every outcome notified, once
    kinds = sorted(e.detail_type for e in host.events.recent())
    assert kinds == ["Certificate Push Summary", "Certificate Pushed", "Certificate Pushed"]
    attempts = host.database.connection().execute("SELECT status_code FROM delivery_attempts").fetchall()
    assert sorted(row[0] for row in attempts) == [200, 200, 500]  # one failed, then waits for its backoff
    assert (
        host.database.connection().execute("SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'").fetchone()[0]
        == 1
    )
    assert all(s["X-Certpush-Signature"].startswith("sha256=") for s in sent)
    assert {json.loads(s["body"])["detail-type"] for s in sent} <= set(kinds)


def test_what_a_dead_process_claimed_comes_back_at_once(host: Any) -> None:
    _import(host)
    HostRuntime(host).validate_due()
    [message, _] = host.queue.receive(2)
    record = host.records.list_current("shop")[0]
    key = (record.certificate_id, record.version, record.target)
    claimed = host.records.claim(host.records.push_states([key])[key], host.clock.now(), 600).record
    connection = host.database.connection()

    def owned_by(owner: str) -> None:
        connection.execute("UPDATE queue SET receiver = ? WHERE message_id = ?", (owner, message.message_id))
        for table in ("pushes", "bindings"):
            connection.execute(
                f"UPDATE {table} SET lease_owner = ? WHERE lease_token = ?", (owner, claimed.lease_token)
            )

    owned_by("elsewhere:999999999:1")
    assert HostRuntime(host).release_dead() == 0  # a process on another machine is never judged from here
    owned_by(host.owner)
    assert HostRuntime(host).release_dead() == 0  # nor this process's own claims
    owned_by(f"{host.owner.split(':')[0]}:999999999:1")  # this machine, a pid that runs no more

    assert HostRuntime(host).release_dead() == 3  # the record's and the binding's leases, the received message
    assert [m.message_id for m in host.queue.receive(5)] == [message.message_id]  # visible again, at once
    state = host.records.push_states([key])[key]
    assert host.records.claim(state, host.clock.now(), 600).record.attempts == 2  # taken over, no wait


def test_a_duplicate_delivery_during_a_settle_wait_goes_back_to_the_queue_for_the_rest_of_it(host: Any) -> None:
    """The host's queue delivers at least once as SQS does: a message received again while the settle wait
    after an ambiguous error runs is not pushed; it becomes visible again when the wait ends, without an
    attempt or a call to the target."""
    waf = host.targets[("huaweicloud", "waf")]
    waf.errors.append(TransientPushError("TIMEOUT", "read timeout", ambiguous=True))
    _import(host)
    runtime = HostRuntime(host)
    runtime.validate_due()
    for message in host.queue.receive(2):
        runtime.push_one(message)
    [settling] = [r for r in host.records.list_current("shop") if r.reason == "TIMEOUT"]
    assert settling.settle_until is not None and len(waf.calls) == 2

    host.queue.send([PushMessage.of(settling)])  # the same push delivered again, during the wait
    [twin] = [m for m in host.queue.receive(10) if json.loads(m.body)["push_id"] == settling.push_id]
    runtime.push_one(twin)

    assert len(waf.calls) == 2  # the target was not asked again
    record = host.records.get(settling.certificate_id, settling.version, settling.target)
    assert record is not None and (record.attempts, record.settle_until) == (1, settling.settle_until)
    visible_at = (
        host.database.connection()
        .execute("SELECT visible_at FROM queue WHERE receipt = ?", (twin.receipt,))
        .fetchone()[0]
    )
    assert abs(visible_at - settling.settle_until.timestamp()) < 2  # back when the wait ends, not sooner
