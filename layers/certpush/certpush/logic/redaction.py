"""Text that comes from a target (an error message, a detail) is scrubbed before certpush keeps it.

A target that echoes its request in an error (some gateways quote the body they refused) would
otherwise put part of a private key into a record, the dashboard, an event and a log line. What is
removed: every PEM block, whole or cut off (from its BEGIN line to its END line, or to the end of the
text), and every run of 40 or more base64 characters (a key's body, DER or PEM, base64-encoded
again, as a request body carries it) that mixes upper case, lower case and digits, as random base64
does. Error texts keep their codes, ids, paths and ARNs: hex ids and paths are one case, and words
have no digits. The result is at most ``MAX_TARGET_TEXT`` characters."""

from __future__ import annotations

import re

MAX_TARGET_TEXT = 300
REDACTED = "[redacted]"

_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]{1,64}-----.*?(?:-----END [A-Z0-9 ]{1,64}-----|\Z)",
    re.DOTALL,
)
# base64 and base64url alphabets, with the escaped line breaks a JSON body quotes (\n, \r\n)
_BASE64_RUN = re.compile(r"(?:[A-Za-z0-9+/_-]|\\[nr]|[\r\n]){40,}={0,2}")
# a PEM marker whose dashes were cut (a truncated echo), or any private-key marker left
_KEY_MARKER = re.compile(r"PRIVATE\s+KEY", re.IGNORECASE)


def _base64_like(match: re.Match[str]) -> str:
    run = match.group(0)
    mixed = any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run)
    return REDACTED if mixed else run


def scrub_target_text(text: str, limit: int = MAX_TARGET_TEXT) -> str:
    """``text`` without PEM blocks, long base64 runs or private-key markers, cut to ``limit``."""
    scrubbed = _PEM_BLOCK.sub(REDACTED, text)
    scrubbed = _BASE64_RUN.sub(_base64_like, scrubbed)
    scrubbed = _KEY_MARKER.sub(REDACTED, scrubbed)
    if len(scrubbed) > limit:
        scrubbed = scrubbed[: limit - 3] + "..."
    return scrubbed
