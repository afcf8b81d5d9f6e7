"""Amazon Web Services: ELB (ACM in the target region, then listeners) and CloudFront (ACM in
us-east-1, then a distribution). ``acm.py`` is what both share; ``DEFINITIONS`` are its push targets."""

from __future__ import annotations

from typing import Any

from certpush.providers.aws import cloudfront, elb
from certpush.providers.definition import PushTargetDefinition

DEFINITIONS: tuple[PushTargetDefinition[Any], ...] = (elb.DEFINITION, cloudfront.DEFINITION)
# the adapters name AWS errors by certpush's own codes (acm.translate_aws_error): certpush.logic.hints
HINTS: dict[str, str] = {}
