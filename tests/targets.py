"""Pushing with a target adapter in tests as the push worker does: ``upload``, then ``attach``.

Production has no ``push``: the worker records the two steps apart (certpush.logic.push). Adapter
tests that want the whole push of one request call ``push_to`` instead; tests that run the push worker
itself against an emulator start from ``queued_pushes``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from certpush.logic.validation import Validator
from certpush.models.domain import CertificateMaterial, PushRequest, TargetSpec, UploadAction
from certpush.models.events import CertificateIssuedDetail
from certpush.ports import PushTarget
from certpush.providers.registry import REGISTRY
from certpush_cli.logic.certificate_import import import_certificate
from certpush_cli.sample_certificates import make_certificate
from tests.fakes import FakeQueue, FixedClock, InMemoryCertificateStore, InMemoryPolicyStore, InMemoryRecordsRepository


@dataclass(frozen=True)
class Pushed:
    target_id: str
    action: UploadAction
    attached: list[str]
    detail: str | None
    console_url: str


def push_to(target: PushTarget, request: PushRequest) -> Pushed:
    """Upload then attach, as one push: what the target holds and what it is attached to."""
    uploaded = target.upload(request)
    attached = target.attach(request, uploaded.target_id)
    return Pushed(
        target_id=uploaded.target_id,
        action=uploaded.action,
        attached=attached.attached,
        detail="; ".join(d for d in (uploaded.detail, attached.detail) if d) or None,
        console_url=target.console_url(request.region, uploaded.target_id),
    )


@dataclass(frozen=True)
class Queued:
    """The in-memory stores after an issuance was validated, its push messages in ``queue``."""

    store: InMemoryCertificateStore
    records: InMemoryRecordsRepository
    queue: FakeQueue
    clock: FixedClock


def queued_pushes(targets: list[TargetSpec], certificate_id: str = "shop") -> Queued:
    """A new certificate (valid now: emulators check dates against the real clock) imported and issued to
    ``targets``: one queued message per target region, as the validator leaves them."""
    now = datetime.now(UTC)
    clock, store, records, queue = FixedClock(now), InMemoryCertificateStore(), InMemoryRecordsRepository(), FakeQueue()
    sample = make_certificate("www.example.com", days=90, not_before=now - timedelta(days=1))
    material = CertificateMaterial(
        certificate_pem=sample.certificate_pem,
        chain_pem=sample.chain_pem,
        private_key_pem=SecretStr(sample.private_key_pem),
    )
    import_certificate(store, clock, material, certificate_id=certificate_id, catalog=REGISTRY)
    validator = Validator(
        store=store, policies=InMemoryPolicyStore(), records=records, queue=queue, clock=clock, catalog=REGISTRY
    )
    outcome = validator.validate(CertificateIssuedDetail(certificate_id=certificate_id, targets=targets), "event-1")
    assert outcome.rejected == {}
    return Queued(store, records, queue, clock)
