"""Validator: turns one "Certificate Issued" event into PENDING records and queue messages, or
REJECTED records with a reason code. A push that cannot succeed is never attempted: neither one of
material no target takes (``certificate_rules.RULES``), nor one a target's own rules exclude (its
``TargetCertificateRules``, read through the ``TargetCatalog`` port)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from aws_lambda_powertools import Logger

from certpush.errors import CertificateNotFoundError, InvalidCertificateError
from certpush.logic.certificate_rules import MaterialShape
from certpush.logic.policies import merge_targets, targets_from_policies
from certpush.logic.target_check import target_problem
from certpush.logic.x509_checks import check_material, material_shape
from certpush.models.domain import (
    CertificateStatus,
    CertificateVersion,
    Issuance,
    IssuanceProgress,
    PushRecord,
    PushStatus,
    RejectReason,
    ReplayReport,
    TargetKey,
    TargetOptions,
    TargetSpec,
)
from certpush.models.events import CertificateIssuedDetail
from certpush.models.messages import PushMessage
from certpush.ports import (
    CertificateStore,
    Clock,
    PolicyStore,
    PushIntake,
    PushQueue,
    ReplayLog,
    TargetCatalog,
)

logger = Logger(child=True)

_PUSH_NAMESPACE = uuid.UUID("6f1c6c44-1e0a-4d5e-9a51-2f0c3c1f7a10")
ACTION_PUSHED = "PUSHED"
ACTION_FINAL = "FINAL"
ACTION_RETRACTED = "RETRACTED"
ACTION_REJECTED = "REJECTED"


@dataclass(frozen=True)
class Rejection:
    reason: RejectReason
    message: str


@dataclass
class ValidationOutcome:
    issuance_id: str
    queued: list[TargetKey] = field(default_factory=list)
    rejected: dict[str, Rejection] = field(default_factory=dict)
    # what became of each target: PUSHED, FINAL (this issuance's outcome stands), RETRACTED (left alone),
    # REJECTED; with the status or reason after a colon (``ReplayReport.actions``)
    actions: dict[str, str] = field(default_factory=dict)


@dataclass
class Validator:
    """Resolves an issuance once: the first validation records its version and targets (the
    issuance item); a redelivered or replayed event of it reuses that resolution, leaves a target whose
    push of it is final as it is (its outcome stands), and pushes no target retracted since (only an
    explicit push does). An event replay (``replay_name``) reports what it did per target (``replays``)."""

    store: CertificateStore
    policies: PolicyStore
    records: PushIntake
    queue: PushQueue
    clock: Clock
    catalog: TargetCatalog
    replays: ReplayLog | None = None

    def validate(
        self, detail: CertificateIssuedDetail, event_id: str, *, replay_name: str | None = None
    ) -> ValidationOutcome:
        issuance_id = detail.issuance_id or event_id
        outcome = ValidationOutcome(issuance_id=issuance_id)
        now = self.clock.now()
        known = self.records.get_issuance(issuance_id)

        wanted = known.version if known is not None else detail.version
        certificate, certificate_problem, shape = self._certificate(detail.certificate_id, wanted, now)
        specs = merge_targets(detail.targets) if detail.targets else self._policy_targets(certificate)
        if known is not None:
            specs = _recorded(known, specs)
        if not specs:
            logger.warning(
                "no targets: the event names none and no push policy matches",
                extra={"certificate_id": detail.certificate_id, "issuance_id": issuance_id},
            )
            return outcome

        fallback = certificate.version if certificate else (detail.version or 0)
        version = known.version if known is not None else fallback
        planned = [
            (
                key,
                spec.options,
                self._target_problem(spec, key) or certificate_problem or self._rules_problem(spec, shape),
            )
            for spec in specs
            for key in spec.target_keys()
        ]
        if known is None:
            self.records.put_issuance(
                Issuance(
                    issuance_id=issuance_id,
                    certificate_id=detail.certificate_id,
                    version=version,
                    targets=[key for key, _, _ in planned],
                    created_at=now,
                )
            )
        again = known is not None or replay_name is not None
        states = (
            self.records.push_states([(detail.certificate_id, version, key) for key, _, _ in planned]) if again else {}
        )

        messages: list[PushMessage] = []
        candidates: list[PushRecord] = []
        for key, options, problem in planned:
            record = PushRecord(
                certificate_id=detail.certificate_id,
                version=version,
                provider=key.provider,
                service=key.service,
                region=key.region,
                status=PushStatus.PENDING,
                issuance_id=issuance_id,
                push_id=str(uuid.uuid5(_PUSH_NAMESPACE, f"{issuance_id}|{key}")),
                options=options,
                forced=detail.force,
                rollback=detail.rollback,
                created_at=now,
                updated_at=now,
            )
            if again:
                existing = states[(detail.certificate_id, version, key)].record
                if existing is not None and existing.status is PushStatus.RETRACTED:
                    # retracted since: only an explicit push (or push --force) puts it back
                    outcome.actions[str(key)] = f"{ACTION_RETRACTED}:{existing.reason or ''}".rstrip(":")
                    continue
                if existing is not None and existing.push_id == record.push_id and existing.status.is_final:
                    outcome.actions[str(key)] = f"{ACTION_FINAL}:{existing.status.value}"
                    continue  # this issuance's outcome stands
            if problem is None:
                candidates.append(record)
                continue
            done = self.records.get(record.certificate_id, record.version, key) if not again else None
            if done is not None and done.push_id == record.push_id and done.status.is_final:
                continue  # this event was delivered before: its outcome stands
            self._reject(record, problem, keep_current=False, outcome=outcome)

        # every target's conditional write at the same time (see start_pushes)
        started = self.records.start_pushes(candidates, force=detail.force)
        for record, was_started in zip(candidates, started, strict=True):
            key = record.target
            if was_started:
                messages.append(PushMessage.of(record))
                outcome.queued.append(key)
                outcome.actions[str(key)] = ACTION_PUSHED
                continue
            existing = self.records.get(record.certificate_id, record.version, key)
            if existing is not None and existing.push_id == record.push_id and existing.status.is_final:
                # this event was delivered before and this target is final: its outcome stands
                # (neither pushed again nor counted as a rejection of its own issuance)
                outcome.actions[str(key)] = f"{ACTION_FINAL}:{existing.status.value}"
                continue
            if existing is not None and existing.push_id == record.push_id and not existing.status.is_final:
                # the same event delivered again: its message may not have been sent, send it again
                messages.append(PushMessage.of(record))
                outcome.queued.append(key)
                outcome.actions[str(key)] = ACTION_PUSHED
            elif existing is not None and existing.status is PushStatus.SUCCEEDED:
                self._reject(
                    record,
                    Rejection(
                        RejectReason.ALREADY_PUSHED,
                        f"version {record.version} is already in {key} as {existing.target_id}",
                    ),
                    keep_current=True,
                    outcome=outcome,
                )
            else:
                self._reject(
                    record,
                    Rejection(
                        RejectReason.PUSH_IN_PROGRESS, f"a push of version {record.version} to {key} is under way"
                    ),
                    keep_current=True,
                    outcome=outcome,
                )
        if messages:
            self.queue.send(messages)
        if replay_name is not None and self.replays is not None:
            self.replays.note(
                ReplayReport(
                    replay_name=replay_name,
                    issuance_id=issuance_id,
                    certificate_id=detail.certificate_id,
                    version=version,
                    actions=outcome.actions,
                    noted_at=now,
                )
            )
        logger.info(
            "issuance validated",
            extra={
                "issuance_id": issuance_id,
                "certificate_id": detail.certificate_id,
                "queued": len(outcome.queued),
                "rejected": {k: r.reason.value for k, r in outcome.rejected.items()},
                "replay_name": replay_name,
                "redelivered": known is not None,
            },
        )
        return outcome

    # -- certificate-level checks ------------------------------------------------------------------
    def _certificate(
        self, certificate_id: str, version: int | None, now: datetime
    ) -> tuple[CertificateVersion | None, Rejection | None, MaterialShape | None]:
        """The version (None: the latest), why no target can take it (or None), and what the target
        rules look at."""
        try:
            certificate = self.store.get_version(certificate_id, version)
        except CertificateNotFoundError as exc:
            return None, Rejection(RejectReason.CERTIFICATE_NOT_FOUND, str(exc)), None
        if certificate.status is not CertificateStatus.HOSTED:
            return (
                certificate,
                Rejection(
                    RejectReason.NOT_HOSTED,
                    f"certificate {certificate.certificate_id} version {certificate.version} is "
                    f"{certificate.status.value}; only HOSTED certificates are pushed",
                ),
                None,
            )
        try:
            material = self.store.get_material(certificate)
            check_material(material, now)
            shape = material_shape(material)
        except CertificateNotFoundError as exc:
            return certificate, Rejection(RejectReason.CERTIFICATE_NOT_FOUND, f"{exc}: its material is missing"), None
        except InvalidCertificateError as exc:
            return certificate, Rejection(RejectReason(exc.reason), str(exc)), None
        return certificate, None, shape

    def _policy_targets(self, certificate: CertificateVersion | None) -> list[TargetSpec]:
        if certificate is None:
            return []
        return targets_from_policies(self.policies.list_policies(), certificate)

    # -- target-level checks -----------------------------------------------------------------------
    def _target_problem(self, spec: TargetSpec, key: TargetKey) -> Rejection | None:
        problem = target_problem(spec, key.region, self.catalog)
        return Rejection(problem.reason, problem.message) if problem else None

    def _rules_problem(self, spec: TargetSpec, shape: MaterialShape | None) -> Rejection | None:
        """The first rule of the target's own that the material breaks (``TargetCertificateRules``)."""
        target = self.catalog.find(spec.provider, spec.service)
        if target is None or shape is None:
            return None
        violation = target.rules.first_violation(shape)
        if violation is None:
            return None
        return Rejection(violation.code, violation.message(f"{spec.provider}:{spec.service}"))

    def _reject(
        self, record: PushRecord, rejection: Rejection, *, keep_current: bool, outcome: ValidationOutcome
    ) -> None:
        rejected = record.model_copy(
            update={"status": PushStatus.REJECTED, "reason": rejection.reason.value, "message": rejection.message}
        )
        self.records.record_rejection(rejected, keep_current=keep_current)
        outcome.rejected[str(record.target)] = rejection
        outcome.actions[str(record.target)] = f"{ACTION_REJECTED}:{rejection.reason.value}"


def _recorded(known: IssuanceProgress, derived: list[TargetSpec]) -> list[TargetSpec]:
    """The targets the issuance was resolved to when first validated, in that order, each with the
    options the event (or the policies) give it now (none when they no longer name it)."""
    options = {(s.provider, s.service, region): s.options for s in derived for region in s.regions}
    specs: dict[tuple[str, str], TargetSpec] = {}
    for target in known.targets:
        provider, service, region = target.split(":", 2)
        spec = specs.setdefault(
            (provider, service),
            TargetSpec(
                provider=provider,
                service=service,
                regions=[region],
                options=options.get((provider, service, region), TargetOptions()),
            ),
        )
        if region not in spec.regions:
            spec.regions.append(region)
    return list(specs.values())
