"""Checks of the Stripe keys: present, of the right kind and mode, safe to use where they are
(E001-E003, E006, E007, W001, W003, W004, W009, I001)."""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.core import checks

from ..conf import SETTING_NAME, get_settings


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key_deploy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """No secret key is an error when checking a deployment."""
    if get_settings().SECRET_KEY:
        return []
    return [
        checks.Error(
            f"{SETTING_NAME}['SECRET_KEY'] is not set.",
            hint="Set it to your Stripe secret key (sk_live_… in production).",
            id="customer_sessions.E001",
        )
    ]


@checks.register()
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """No secret key is only a warning in a plain check: builds without secrets must work."""
    if get_settings().SECRET_KEY:
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['SECRET_KEY'] is not set; customer sessions will fail.",
            hint="Set it to your Stripe secret key (sk_test_… while developing).",
            id="customer_sessions.W001",
        )
    ]


_KEY_RE = re.compile(r"^(sk|rk|pk)_(test|live)_")
_KINDS = {"sk": "secret", "rk": "restricted", "pk": "publishable"}


def _key_kind_mode(key: Any) -> tuple[str, str] | None:
    """``("sk" | "rk" | "pk", "test" | "live")`` read from a key's prefix, or None."""
    match = _KEY_RE.match(key) if isinstance(key, str) else None
    return (match.group(1), match.group(2)) if match else None


@checks.register(checks.Tags.security)
def check_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Keys of the wrong kind, or a publishable key of the other mode than the secret key."""
    conf = get_settings()
    errors: list[checks.CheckMessage] = []
    secret = _key_kind_mode(conf.SECRET_KEY) if conf.SECRET_KEY else None
    if conf.SECRET_KEY and (secret is None or secret[0] == "pk"):
        errors.append(
            checks.Error(
                f"{SETTING_NAME}['SECRET_KEY'] is not a Stripe secret or restricted key.",
                hint="Use the key that starts with sk_test_/sk_live_ (or rk_test_/rk_live_) "
                "from https://dashboard.stripe.com/apikeys.",
                id="customer_sessions.E002",
            )
        )
        secret = None
    public = _key_kind_mode(conf.PUBLISHABLE_KEY) if conf.PUBLISHABLE_KEY else None
    if conf.PUBLISHABLE_KEY and (public is None or public[0] != "pk"):
        errors.append(
            checks.Error(
                f"{SETTING_NAME}['PUBLISHABLE_KEY'] is not a Stripe publishable key.",
                hint="It is sent to every browser: use the key that starts with pk_test_ or "
                "pk_live_, never a secret or restricted key.",
                id="customer_sessions.E006",
            )
        )
        public = None
    if secret and public and secret[1] != public[1]:
        errors.append(
            checks.Error(
                f"{SETTING_NAME}['PUBLISHABLE_KEY'] is a {public[1]} mode key but "
                f"{SETTING_NAME}['SECRET_KEY'] is a {secret[1]} mode key.",
                hint="Stripe.js cannot use a Customer Session made in the other mode: take "
                "both keys from the same mode of the same Stripe account.",
                id="customer_sessions.E003",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_live_key_with_debug(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    key = _key_kind_mode(get_settings().SECRET_KEY)
    if key is None or key[1] != "live" or not settings.DEBUG:
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['SECRET_KEY'] is a live mode key while DEBUG is True.",
            hint="Real customers are created and a debug page can show request details; "
            "use a test mode key (sk_test_…) while developing.",
            id="customer_sessions.W003",
        )
    ]


@checks.register(checks.Tags.security)
def check_stripe_console_log(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """stripe-python prints to stderr, past every logging filter, when told to."""
    levels = {getattr(stripe, "log", None), os.environ.get("STRIPE_LOG")}
    if "debug" in levels:
        return [
            checks.Error(
                "stripe-python is told to print debug output to the console "
                "(stripe.log or the STRIPE_LOG environment variable is 'debug').",
                hint="It prints every response body, client secrets included, to stderr, "
                "where no logging filter can remove them. Unset it; use the 'stripe' "
                "logger if you need Stripe's request log.",
                id="customer_sessions.E007",
            )
        ]
    if "info" in levels:
        return [
            checks.Warning(
                "stripe-python is told to print request lines to the console "
                "(stripe.log or the STRIPE_LOG environment variable is 'info').",
                hint="Its output goes to stderr past every logging filter. Unset it; use "
                "the 'stripe' logger instead.",
                id="customer_sessions.W004",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_restricted_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A restricted key's permissions cannot be read from the key: say which it needs."""
    key = _key_kind_mode(get_settings().SECRET_KEY)
    if key is None or key[0] != "rk":
        return []
    return [
        checks.Info(
            f"{SETTING_NAME}['SECRET_KEY'] is a restricted key; its permissions cannot be "
            "checked without calling Stripe.",
            hint="It needs Write access to Customers and to Customer Sessions. A missing "
            "permission shows as 'stripe_misconfigured' errors (403 from Stripe).",
            id="customer_sessions.I001",
        )
    ]


#: Where a live key may go: Stripe's API, over HTTPS.
_STRIPE_API_HOST = "api.stripe.com"


@checks.register(checks.Tags.security, deploy=True)
def check_live_key_api_base(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``API_BASE`` is for a Stripe double; a live key sent there goes to that host."""
    conf = get_settings()
    key = _key_kind_mode(conf.SECRET_KEY)
    if key is None or key[1] != "live" or not conf.API_BASE:
        return []
    url = urlsplit(str(conf.API_BASE))
    try:
        port = url.port
    except ValueError:  # not a number: not Stripe's API either
        port = -1
    if url.scheme == "https" and url.hostname == _STRIPE_API_HOST and port in (None, 443):
        return []
    # Named without the user and password a URL may hold.
    where = f"{url.scheme}://{url.hostname}" if url.hostname else repr(conf.API_BASE)
    where += f":{port}" if url.hostname and port and port > 0 else ""
    return [
        checks.Warning(
            f"{SETTING_NAME}['SECRET_KEY'] is a live mode key but {SETTING_NAME}['API_BASE'] "
            f"sends it to {where}, not to Stripe's API.",
            hint="Every request would hand the live key to that server. API_BASE is for a "
            "Stripe double in tests and development: unset it in production, or use a test "
            "mode key with it.",
            id="customer_sessions.W009",
        )
    ]
