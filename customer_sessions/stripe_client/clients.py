"""The app's long-lived ``StripeClient`` objects: one per key and account, per process (sync)
or per event loop (async), so that connections to Stripe stay open between requests."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import weakref
from typing import Any

import stripe
from django.core.signals import setting_changed
from django.dispatch import receiver

from ..conf import SETTING_NAME, AppSettings, get_settings
from ..exceptions import StripeMisconfigured
from ..models import Mode
from .transports import Transport

logger = logging.getLogger(__name__)


def stripe_mode(api_key: str) -> Mode:
    """``Mode.TEST`` or ``Mode.LIVE``, read from the key's prefix."""
    for prefix in ("sk_", "rk_"):
        if api_key.startswith(prefix + "test_"):
            return Mode.TEST
        if api_key.startswith(prefix + "live_"):
            return Mode.LIVE
    raise StripeMisconfigured(
        f"{SETTING_NAME}['SECRET_KEY'] is not a Stripe secret or restricted key "
        "(it must start with sk_test_, sk_live_, rk_test_ or rk_live_)."
    )


def refuse_console_debug_output() -> None:
    """Refuse to call Stripe while stripe-python prints its debug output to the console.

    With ``stripe.log = "debug"`` or ``STRIPE_LOG=debug`` in the environment,
    stripe-python prints every response body, client secrets included, to stderr, past
    every logging filter; a server that never runs ``manage.py check`` (gunicorn, uvicorn)
    would print every secret it hands out. Nothing is sent until it is unset
    (``"info"`` prints request lines only, no bodies, and is allowed; check W004).
    """
    if "debug" in (getattr(stripe, "log", None), os.environ.get("STRIPE_LOG")):
        logger.error(
            "stripe-python is told to print its debug output, response bodies and client "
            "secrets included, to the console (stripe.log or the STRIPE_LOG environment "
            "variable is 'debug'); no request is sent to Stripe until it is unset."
        )
        raise StripeMisconfigured(
            "stripe-python's console debug output (stripe.log or STRIPE_LOG = 'debug') "
            "would print client secrets; unset it."
        )


_lock = threading.Lock()
_clients: dict[tuple[Any, ...], stripe.StripeClient] = {}
# Their transports, closed when the clients are dropped, so that no kept-alive connection
# to Stripe is left for the garbage collector.
_transports: list[Transport] = []
# The async clients: one set per event loop, because an httpx connection belongs to the
# loop that opened it. A loop's clients go when the loop is garbage-collected. Under
# uvicorn there is one loop per worker process, so one set of pools per worker.
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], stripe.StripeClient]
] = weakref.WeakKeyDictionary()


def get_client(account: str = "") -> stripe.StripeClient:
    """The process-wide :class:`stripe.StripeClient` for the configured key and ``account``."""
    refuse_console_debug_output()
    conf = get_settings()
    key = _client_key(conf, account)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                transport = _transport(conf)
                client = _clients[key] = _new_client(conf, account, transport)
                _transports.append(transport)
    return client


def get_async_client(account: str = "") -> stripe.StripeClient:
    """The running event loop's :class:`stripe.StripeClient` for ``account``.

    Its ``*_async`` methods await Stripe without blocking the loop. Needs the ``async``
    extra (``pip install django-customer-sessions[async]``, which brings httpx).
    """
    loop = asyncio.get_running_loop()
    refuse_console_debug_output()
    conf = get_settings()
    key = _client_key(conf, account)
    with _lock:
        clients = _async_clients.setdefault(loop, {})
        client = clients.get(key)
        if client is None:
            client = clients[key] = _new_client(conf, account, _transport(conf))
    return client


def _client_key(conf: AppSettings, account: str) -> tuple[Any, ...]:
    return (
        conf.require_secret_key(),
        account,
        conf.API_BASE,
        conf.API_VERSION,
        conf.MAX_NETWORK_RETRIES,
        conf.TIMEOUT,
    )


def _transport(conf: AppSettings) -> Transport:
    return Transport(conf.TIMEOUT, conf.API_BASE, before_request=refuse_console_debug_output)


def _new_client(conf: AppSettings, account: str, transport: Transport) -> stripe.StripeClient:
    return stripe.StripeClient(
        conf.require_secret_key(),
        stripe_account=account or None,
        stripe_version=conf.API_VERSION,
        base_addresses={"api": conf.API_BASE} if conf.API_BASE else None,
        max_network_retries=conf.MAX_NETWORK_RETRIES,
        http_client=transport,
    )


@receiver(setting_changed)
def _drop_clients(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        with _lock:
            _clients.clear()
            _async_clients.clear()
            for transport in _transports:
                transport.close()
            _transports.clear()
