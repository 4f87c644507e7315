"""Keeping tokens out of messages and logs: `redact` for the text we write, and `redacting()`,
a log filter on every logger a sync goes through (dlt, urllib3, requests, ours, Dagster's)
for the text libraries write, e.g. a URL or a header at debug level.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class TokenFilter(logging.Filter):
    """Replaces the tokens in every record passing through (dlt, urllib3, our own logs)."""

    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


LOGGERS = ("dlt", "urllib3", "requests", "salespipe.connectors", "dagster")


@contextmanager
def redacting(secrets: tuple[str, ...]) -> Iterator[None]:
    """While a sync runs: `TokenFilter` on LOGGERS, the root logger and all their handlers."""
    flt = TokenFilter(secrets)
    loggers = [logging.getLogger(n) for n in LOGGERS] + [logging.getLogger()]
    handlers = {h for lg in loggers for h in lg.handlers}
    for target in [*loggers, *handlers]:
        target.addFilter(flt)
    try:
        yield
    finally:
        for target in [*loggers, *handlers]:
            target.removeFilter(flt)
