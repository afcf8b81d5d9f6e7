"""Huawei Cloud: WAF, ELB (v3) and CDN, signed with AK/SK (``signer.py``) through one client
(``client.py``), with the region tables of each service (``regions.py``). ``DEFINITIONS`` are its
push targets; each service module builds its adapter (``*_adapter.py``) lazily."""

from __future__ import annotations

from typing import Any

from certpush.providers.definition import PushTargetDefinition
from certpush.providers.huaweicloud import cdn, elb, waf
from certpush.providers.huaweicloud.hints import HINTS

DEFINITIONS: tuple[PushTargetDefinition[Any], ...] = (waf.DEFINITION, elb.DEFINITION, cdn.DEFINITION)

__all__ = ["DEFINITIONS", "HINTS"]
