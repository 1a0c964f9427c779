"""Kept for existing imports: the double's public names, from the modules that now hold them.

New code imports from :mod:`customer_sessions.testing`.
"""

from .auth import NO_KEY, PUBLISHABLE_KEY, mask_key
from .double import FakeStripe
from .errors import DOCS
from .exchange import Namespace
from .http_server import MAX_BODY
from .idempotency import IDEMPOTENCY_IN_USE, IDEMPOTENCY_MISMATCH
from .records import FakeAccount, RecordedRequest, StoredObject
from .resources.customer_sessions import SESSION_LIFETIME

__all__ = [
    "DOCS",
    "IDEMPOTENCY_IN_USE",
    "IDEMPOTENCY_MISMATCH",
    "MAX_BODY",
    "NO_KEY",
    "PUBLISHABLE_KEY",
    "SESSION_LIFETIME",
    "FakeAccount",
    "FakeStripe",
    "Namespace",
    "RecordedRequest",
    "StoredObject",
    "mask_key",
]
