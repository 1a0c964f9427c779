"""API keys: the key a request carries, whether it is accepted, and whose account it opens.

Any well-formed secret or restricted key (``sk_``/``rk_``, ``test``/``live``) is accepted
unless revoked; its mode is in its prefix, its platform account is the double's own unless
it is a key of :meth:`FakeStripe.other_account`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection

from .errors import StripeError
from .exchange import RawRequest, Request

__all__ = ["NO_KEY", "PUBLISHABLE_KEY", "api_key_from", "authenticate", "mask_key"]

_KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]+$")
_KEY_PREFIX = re.compile(r"^(sk|rk|pk)_(test|live)_")

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
PUBLISHABLE_KEY = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)


def mask_key(key: str) -> str:
    """``sk_test_****…abcd``: Stripe shows the prefix and the last four characters only."""
    match = _KEY_PREFIX.match(key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def api_key_from(authorization: str | None) -> str | None:
    """The key in an ``Authorization`` header: Bearer, Basic (the user name) or bare."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return credentials or None
        return decoded.split(":", 1)[0] or None
    return authorization.strip() or None


def authenticate(
    raw: RawRequest, *, revoked: Collection[str], platform_of: Callable[[str], str]
) -> Request:
    """``raw`` as a :class:`Request` of its key's account, or Stripe's 401 for its key."""
    key = raw.api_key
    if not key:
        raise StripeError(401, NO_KEY)
    if key.startswith(("pk_test_", "pk_live_")):
        raise StripeError(401, PUBLISHABLE_KEY)
    if not _KEY.match(key) or key in revoked:
        raise StripeError(401, f"Invalid API Key provided: {mask_key(key)}")
    return Request(
        method=raw.method,
        path=raw.path,
        params=raw.params,
        headers=raw.headers,
        api_key=key,
        account=raw.headers.get("stripe-account", ""),
        livemode=key.split("_", 2)[1] == "live",
        idempotency_key=raw.headers.get("idempotency-key"),
        request_id=raw.request_id,
        platform=platform_of(key),
    )
