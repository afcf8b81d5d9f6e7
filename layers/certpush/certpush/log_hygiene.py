"""No request or response body in a log, whatever level the runtime or the user sets.

At DEBUG, botocore logs every request it sends and every response it parses (``GetSecretValue``'s
answer and ``ImportCertificate``'s request hold a private key), urllib3 and httpcore log headers, and
httpx logs URLs. Lambda's advanced logging controls (``AWS_LAMBDA_LOG_LEVEL``) set the *root* logger's
level, Powertools (``POWERTOOLS_LOG_LEVEL``, ``LOG_LEVEL``) its own logger's: neither sets these
libraries' loggers, which inherit the root's level. ``pin_library_loggers`` gives each of them a level
of its own, WARNING (or the stricter one already set), and brings any logger below them that was set
lower back to inheriting it, so their DEBUG and INFO records are never made. A filter on each one drops
a lower record that is made anyway (someone set the library logger's level back down).

Every handler calls it at import, before any client is made; so does the operator's command."""

from __future__ import annotations

import logging

# Libraries that log bodies, headers or URLs below WARNING. botocore: "botocore.endpoint",
# "botocore.parsers" (request dicts and response bodies), "botocore.hooks", "botocore.auth" (the
# canonical request); boto3 and s3transfer: their calls; urllib3 and httpcore: connections and
# headers; httpx: every request line; hpack / h2: HTTP/2 headers; aws_xray_sdk: subsegments.
LIBRARY_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "httpx", "httpcore", "hpack", "h2", "aws_xray_sdk")
PINNED_LEVEL = logging.WARNING


class _BelowPinnedLevel(logging.Filter):
    """Drops a record below WARNING that a library logger made anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= PINNED_LEVEL


_FILTER = _BelowPinnedLevel()


def _under(name: str) -> bool:
    return any(name == library or name.startswith(f"{library}.") for library in LIBRARY_LOGGERS)


def pin_library_loggers() -> None:
    """Idempotent; cheap enough to call on every invocation."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < PINNED_LEVEL:  # NOTSET (0) included: it would inherit the root's level
            logger.setLevel(PINNED_LEVEL)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for name, child in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(child, logging.Logger) and _under(name) and name not in LIBRARY_LOGGERS:
            if child.level != logging.NOTSET and child.level < PINNED_LEVEL:
                child.setLevel(logging.NOTSET)  # inherit the pinned level of its library
            if _FILTER not in child.filters:
                child.addFilter(_FILTER)
