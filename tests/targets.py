"""Pushing with a target adapter in tests as the push worker does: ``upload``, then ``attach``.

Production has no ``push``: the worker records the two steps apart (certpush.logic.push). Adapter
tests that want the whole push of one request call ``push_to`` instead."""

from __future__ import annotations

from dataclasses import dataclass

from certpush.models.domain import PushRequest, UploadAction
from certpush.ports import PushTarget


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
