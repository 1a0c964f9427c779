"""Random ids and keys in Stripe's alphabet, and Stripe's clock (whole seconds)."""

from __future__ import annotations

import secrets
import string
import time

__all__ = ["now", "random_string"]

_ALNUM = string.ascii_letters + string.digits


def random_string(length: int) -> str:
    """``length`` random letters and digits, as in Stripe's ids after their prefix."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def now() -> int:
    """The current Unix time in seconds, as Stripe's ``created`` fields carry it."""
    return int(time.time())
