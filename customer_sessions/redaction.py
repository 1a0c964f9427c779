"""Keeps client secrets and API keys out of log records.

stripe-python logs every response body at DEBUG on the ``stripe`` logger; a Customer
Session's body holds its ``client_secret``. :class:`RedactSecretsFilter` is attached to
that logger when the app is ready, and sites may add it to their own handlers too
(``"()": "customer_sessions.redaction.RedactSecretsFilter"``).
"""

from __future__ import annotations

import logging
import re

#: Client secrets (Customer Sessions, PaymentIntents, SetupIntents), API keys and webhook
#: signing secrets.
SECRET_PATTERN = re.compile(
    r"\b(?:"
    r"cuss_secret_[A-Za-z0-9_]+"
    r"|(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"
    r"|(?:sk|rk)_(?:test|live)_[A-Za-z0-9_]+"
    r"|whsec_[A-Za-z0-9_]+"
    r")"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every secret-looking token replaced."""
    return SECRET_PATTERN.sub(REDACTED, text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message so that no secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_filter = RedactSecretsFilter()


def install() -> None:
    """Attach the filter to stripe-python's logger (idempotent)."""
    stripe_logger = logging.getLogger("stripe")
    if _filter not in stripe_logger.filters:
        stripe_logger.addFilter(_filter)
