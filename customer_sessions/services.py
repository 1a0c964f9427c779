"""Every call to Stripe, and the rules around it. Nothing else in the app talks to Stripe.

The public Python API is :func:`create_customer_session` and :func:`get_or_create_customer`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import weakref
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

import stripe
from asgiref.sync import sync_to_async
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.signals import setting_changed
from django.db import (
    IntegrityError,
    connections,
    router,
    transaction,
)
from django.dispatch import Signal, receiver
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import signals
from .conf import SETTING_NAME, AppSettings, get_settings
from .exceptions import (
    CustomerConflict,
    CustomerSessionError,
    StripeInvalidRequest,
    StripeMisconfigured,
    StripeRateLimited,
    StripeUnavailable,
    TooManyReplacements,
    UnknownComponents,
)
from .models import Mode, ReplacedStripeCustomer, StripeCustomer, new_idempotency_key

logger = logging.getLogger(__name__)

__all__ = [
    "ClientSecret",
    "CustomerSession",
    "CustomerStatus",
    "account_for",
    "acreate_customer_session",
    "aget_or_create_customer",
    "create_customer_session",
    "fix_customer",
    "forget_customer",
    "get_async_client",
    "get_client",
    "get_or_create_customer",
    "stripe_mode",
    "verify_customer",
]


class ClientSecret(str):
    """A client secret: a plain ``str`` everywhere, but masked in ``repr()``.

    Tracebacks (Django's technical 500 page shows every frame's locals with ``repr``),
    ``%r`` log arguments and debuggers then show ``ClientSecret('cuss_secret_…')``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ClientSecret('{self[:12]}…')"


@dataclass(frozen=True, slots=True)
class CustomerSession:
    """A fresh Customer Session: hand ``client_secret`` to Stripe.js, then forget it.

    The secret is kept out of ``repr()`` and the value refuses to be pickled, so it cannot
    end up in a log line, a cache or a session by accident.
    """

    client_secret: str = field(repr=False)
    expires_at: int
    customer: str
    livemode: bool
    components: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """What a page needs: the secret and when it expires (Unix time)."""
        return {"client_secret": self.client_secret, "expires_at": self.expires_at}

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError(
            "A CustomerSession holds a client secret and must not be pickled, cached or "
            "stored; create a new one for every page instead."
        )

    def __copy__(self) -> CustomerSession:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> CustomerSession:
        return self


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


# One long-lived StripeClient per (key, account, connection settings) per process, so that
# its HTTP client keeps connections to Stripe open between requests (one per thread).
_clients: dict[tuple[Any, ...], stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def get_client(account: str = "") -> stripe.StripeClient:
    """The process-wide :class:`stripe.StripeClient` for the configured key and ``account``."""
    conf = get_settings()
    api_key = conf.require_secret_key()
    cache_key = _client_key(conf, api_key, account)
    client = _clients.get(cache_key)
    if client is None:
        with _clients_lock:
            client = _clients.get(cache_key)
            if client is None:
                client = _clients[cache_key] = _new_client(
                    conf, api_key, account, _RequestsClient(conf.TIMEOUT, conf.API_BASE)
                )
    return client


class _RequestsClient(stripe.RequestsClient):
    """stripe-python's requests client, reading the proxy environment once, not per request.

    A ``requests.Session`` looks through the whole process environment for proxy settings
    on every request (``trust_env``): about 80 µs with 40 variables, far more in containers
    that get hundreds. This client reads them when it is made, for the Stripe address it
    talks to (``HTTPS_PROXY``, ``NO_PROXY`` … are honoured as before), and gives each
    thread its own session, as stripe-python does, with ``trust_env`` off.
    """

    def __init__(self, timeout: float, api_base: str | None = None) -> None:
        super().__init__(timeout=timeout, proxy=_environment_proxies(api_base) or None)  # type: ignore[arg-type]
        self._thread_local = _ThreadSession()


def _environment_proxies(api_base: str | None) -> dict[str, str]:
    """The proxies the environment names for the Stripe API address, by URL scheme.

    Read for the API address, the only one the app calls (a ``NO_PROXY`` entry that names
    files.stripe.com but not api.stripe.com is not told apart for these clients).
    """
    import requests

    found = requests.utils.get_environ_proxies(api_base or stripe.DEFAULT_API_BASE)
    return {scheme: url for scheme, url in found.items() if scheme != "no"}


class _ThreadSession(threading.local):
    """A ``requests.Session`` per thread, made when the thread first sends a request."""

    def __init__(self) -> None:
        import requests

        self.session = requests.Session()
        self.session.trust_env = False


# The async API's clients: one per event loop as well as per key and account, because an
# httpx.AsyncClient's connections belong to the loop that opened them. A loop's clients go
# when the loop is garbage-collected. Under uvicorn there is one loop per worker process,
# so one client (and its pool of kept-alive connections to Stripe) per worker.
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], stripe.StripeClient]
] = weakref.WeakKeyDictionary()


def get_async_client(account: str = "") -> stripe.StripeClient:
    """The running event loop's :class:`stripe.StripeClient` for ``account``, over httpx.

    Its ``*_async`` methods await Stripe without blocking the loop. Needs the ``async``
    extra (``pip install django-customer-sessions[async]``, which brings httpx).
    """
    loop = asyncio.get_running_loop()
    conf = get_settings()
    api_key = conf.require_secret_key()
    cache_key = _client_key(conf, api_key, account)
    with _clients_lock:
        clients = _async_clients.setdefault(loop, {})
        client = clients.get(cache_key)
        if client is None:
            client = clients[cache_key] = _new_client(
                conf, api_key, account, _AsyncHTTPClient(conf.TIMEOUT, conf.API_BASE)
            )
    return client


class _AsyncHTTPClient(stripe.HTTPXClient):
    """stripe-python's httpx client, sending straight to httpx transports that keep connections.

    - Each request goes to an ``httpx.AsyncHTTPTransport`` (httpx's connection pool)
      without passing through ``httpx.AsyncClient``: the client's per-request work
      (merging defaults, cookies, authentication and redirect handling, event hooks), of
      which a Stripe request needs none, cost about 150 µs of the event loop's time per
      session. What the client would have read from the environment is read once, when
      this one is made: the proxy for the API address (as the sync client does).
    - httpx keeps at most 20 idle connections by default: a worker serving more concurrent
      sessions than that would open and close a connection to Stripe for most of them.
      These pools keep every connection they open (until idle for httpx's 5 seconds).
    - httpcore's pool looks at every one of its connections several times per request
      (quadratic in their number): with 64 sessions waiting for Stripe at once, that cost
      more CPU than the rest of the request. So each request goes to the least busy of
      ``POOLS`` pools; one at a time, every request uses the first pool's one connection.
    """

    POOLS = 16

    def __init__(self, timeout: float, api_base: str | None = None) -> None:
        super().__init__(timeout=timeout)
        httpx = self.httpx
        base = api_base or stripe.DEFAULT_API_BASE
        proxies = _environment_proxies(base)
        proxy = proxies.get(base.partition(":")[0]) or proxies.get("all")
        if proxy and "://" not in proxy:
            proxy = "http://" + proxy  # "proxy.corp:3128", as requests and httpx read it
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        verify = self._verify()
        self._transports = [
            httpx.AsyncHTTPTransport(verify=verify, limits=limits, proxy=proxy)
            for _ in range(self.POOLS)
        ]
        self._busy = [0] * self.POOLS
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        pool = self._busy.index(min(self._busy))
        self._busy[pool] += 1
        try:
            request = self.httpx.Request(
                method, url, headers=headers, content=post_data or None, extensions=self._extensions
            )
            try:
                response = await self._transports[pool].handle_async_request(request)
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
            except Exception as exc:
                self._handle_request_error(exc)
            return content, response.status_code, response.headers
        finally:
            self._busy[pool] -= 1

    async def close_async(self) -> None:
        for transport in self._transports:
            await transport.aclose()
        await super().close_async()

    def _verify(self) -> Any:
        if not self._verify_ssl_certs:
            return False
        import ssl

        return ssl.create_default_context(cafile=stripe.ca_bundle_path)


def _client_key(conf: AppSettings, api_key: str, account: str) -> tuple[Any, ...]:
    return (
        api_key,
        account,
        conf.API_BASE,
        conf.API_VERSION,
        conf.MAX_NETWORK_RETRIES,
        conf.TIMEOUT,
    )


def _new_client(
    conf: AppSettings, api_key: str, account: str, http_client: stripe.HTTPClient
) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        stripe_account=account or None,
        stripe_version=conf.API_VERSION,
        base_addresses={"api": conf.API_BASE} if conf.API_BASE else None,
        max_network_retries=conf.MAX_NETWORK_RETRIES,
        http_client=http_client,
    )


@receiver(setting_changed)
def _drop_clients(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        with _clients_lock:
            _clients.clear()
            _async_clients.clear()


_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]+")


def account_for(request: Any) -> str:
    """The connected account for ``request``: ``CUSTOMER_SESSIONS['ACCOUNT'](request)``.

    ``""`` (the platform account) when the setting is not set. Anything but ``""`` or an
    ``"acct_…"`` id from the function raises :class:`StripeMisconfigured` (its value is
    not repeated: it may come from the request).
    """
    func = get_settings().account_func()
    if func is None:
        return ""
    account = func(request)
    if isinstance(account, str) and (account == "" or _ACCOUNT_ID.fullmatch(account)):
        return account
    what = "a str that is not" if isinstance(account, str) else f"{type(account).__name__}, not"
    message = (
        f"{SETTING_NAME}['ACCOUNT'] returned {what} \"\" (the platform account) or a "
        'connected account id ("acct_…").'
    )
    logger.error("%s", message)
    raise StripeMisconfigured(message)


# --- errors -----------------------------------------------------------------------------


def _describe(exc: stripe.StripeError) -> str:
    """What a log line may say of a Stripe error: never its message, which can hold a key."""
    return (
        f"{type(exc).__name__} (status {exc.http_status or '-'}, "
        f"code {exc.code or '-'}, request {exc.request_id or '-'})"
    )


def _retry_after(exc: stripe.StripeError) -> int:
    headers = exc.headers or {}
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(1, int(float(value))) if value else 1
    except ValueError:
        return 1


@contextmanager
def _stripe_errors(action: str, user: AbstractBaseUser, customer_id: str = "") -> Iterator[None]:
    """Turn stripe-python's exceptions into the app's, logging what happened (no secrets)."""
    try:
        yield
    except stripe.StripeError as exc:
        who = f"user {user.pk}, customer {customer_id or '-'}"
        error: CustomerSessionError
        if isinstance(exc, stripe.RateLimitError):
            error = StripeRateLimited(retry_after=_retry_after(exc))
        elif isinstance(exc, stripe.APIConnectionError | stripe.APIError):
            error = StripeUnavailable(retry_after=1)
        elif isinstance(exc, stripe.AuthenticationError):
            error = StripeMisconfigured(
                f"Stripe refused {SETTING_NAME}['SECRET_KEY'] (401). Check the key."
            )
        elif isinstance(exc, stripe.PermissionError):
            error = StripeMisconfigured(
                f"{SETTING_NAME}['SECRET_KEY'] lacks a permission needed to {action} (403)."
            )
        else:
            error = StripeInvalidRequest()
        log = logger.error if isinstance(error, StripeMisconfigured) else logger.warning
        log("Stripe failed to %s for %s: %s -> %s", action, who, _describe(exc), error.code)
        raise error from None


# --- the mapping ------------------------------------------------------------------------


def _components(conf: AppSettings, preset: str | None) -> dict[str, Any]:
    try:
        return conf.components(preset)
    except KeyError:
        raise UnknownComponents(
            f"Unknown components preset {preset!r}; choose one of "
            f"{', '.join(sorted(conf.COMPONENT_PRESETS))}."
        ) from None


def _check_user(user: AbstractBaseUser | Any) -> None:
    if user is None or not user.is_authenticated or not getattr(user, "is_active", True):
        raise PermissionDenied("Only signed-in, active users have a Stripe customer.")


def _mapped_customer_id(user: AbstractBaseUser, mode: Mode, account: str) -> str:
    """The confirmed customer of ``user`` or ``""``: exactly one query.

    The query of :func:`_mapped_rows_of`, compiled once per database: it runs on every
    session, and the ORM takes about ten times longer to build it than SQLite to run it.
    The user's key is prepared for the database by the model field, as the ORM would.
    """
    using = router.db_for_read(StripeCustomer)
    connection = connections[using]
    sql, order = _mapped_sql(using, user.pk)
    values = {
        "user": _USER_FIELD.get_db_prep_value(user.pk, connection),
        "mode": getattr(mode, "value", mode),
        "account": account,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, [values[name] for name in order])
        row = cursor.fetchone()
    return str(row[0]) if row else ""


_USER_FIELD = StripeCustomer._meta.get_field("user")
_compiled: dict[str, tuple[str, tuple[str, ...]]] = {}


def _mapped_sql(using: str, user_pk: Any) -> tuple[str, tuple[str, ...]]:
    """:func:`_mapped_rows_of`' SQL on ``using`` and the order of its parameters."""
    compiled = _compiled.get(using)
    if compiled is None:
        # Build the query once, with stand-ins for mode and account, then name each
        # parameter: the stand-ins by their value, the remaining one is the user's key.
        mode, account = "\x00mode", "\x00account"
        rows = _mapped_rows_of(user_pk, mode, account).using(using)
        sql, params = rows.query.sql_with_params()
        names = {mode: "mode", account: "account"}
        order = tuple(
            names.get(value, "user") if isinstance(value, str) else "user" for value in params
        )
        compiled = _compiled[using] = (sql, order)
    return compiled


async def _amapped_customer_id(user: AbstractBaseUser, mode: Mode, account: str) -> str:
    """:func:`_mapped_customer_id` for async code: the same one compiled query.

    It runs where Django's async ORM runs a query (``sync_to_async`` in the request's
    database thread), without building the ORM query again on every session.
    """
    return await _mapped_customer_id_async(user, mode, account)


_mapped_customer_id_async = sync_to_async(_mapped_customer_id)


def _mapped_rows_of(user_pk: Any, mode: str, account: str) -> Any:
    rows = StripeCustomer.objects.filter(user_id=user_pk, mode=mode, account=account)
    return rows.values_list("customer_id", flat=True)[:1]


def _create_customer(
    client: stripe.StripeClient, user: AbstractBaseUser, mode: Mode, account: str
) -> str:
    """Create and map the user's customer, exactly once however many requests race here.

    1. A pending claim row is committed (its random idempotency key survives a failure).
    2. Inside a transaction, the claim row is locked by writing to it first (a row lock on
       PostgreSQL and MySQL, the database write lock on SQLite, where SELECT ... FOR UPDATE
       does nothing). Whoever gets the lock second finds the customer already mapped.
    3. The lock holder creates the customer with the claim's idempotency key and maps it.
    The database decides; the idempotency key only protects against a lost response.
    """
    conf = get_settings()
    claim, _ = StripeCustomer.objects.get_or_create(user_id=user.pk, mode=mode, account=account)
    conflict = None
    with transaction.atomic():
        locked = StripeCustomer.objects.filter(pk=claim.pk).update(updated=timezone.now())
        row = StripeCustomer.objects.get(pk=claim.pk) if locked else None
        if row is None:  # deleted under us (the user was deleted): start over
            return _create_customer(client, user, mode, account)
        if row.customer_id:
            return row.customer_id
        params: Any = conf.customer_params_func()(user)
        with _stripe_errors("create a customer", user):
            try:
                customer = client.v1.customers.create(
                    params=params, options={"idempotency_key": row.idempotency_key}
                )
            except stripe.IdempotencyError:
                # The parameters changed since an earlier attempt with this key (the user
                # edited their email, say): that attempt's customer, if Stripe made one,
                # is lost to us. Start a new claim key and try once more.
                logger.warning(
                    "Customer parameters for user %s changed since an earlier attempt; "
                    "a customer from that attempt may be left without a user.",
                    user.pk,
                )
                row.idempotency_key = new_idempotency_key()
                row.save(update_fields=["idempotency_key", "updated"])
                customer = client.v1.customers.create(
                    params=params, options={"idempotency_key": row.idempotency_key}
                )
        row.customer_id = customer.id
        try:
            with transaction.atomic():
                row.save(update_fields=["customer_id", "updated"])
        except IntegrityError:
            # Stripe answered with a customer another user is mapped to. Never hand it
            # out; give this claim a new key so the next attempt makes a fresh customer.
            conflict = customer.id
            row.customer_id = ""
            row.idempotency_key = new_idempotency_key()
            row.save(update_fields=["customer_id", "idempotency_key", "updated"])
    if conflict:
        logger.error(
            "Stripe returned customer %s for user %s, but it is mapped to another user; refused.",
            conflict,
            user.pk,
        )
        raise CustomerConflict()
    logger.info("Created Stripe customer %s for user %s (%s).", customer.id, user.pk, mode)
    signals.customer_created.send(
        sender=StripeCustomer, user=user, customer_id=customer.id, mode=mode, account=account
    )
    return str(customer.id)


def _replace_customer(
    user: AbstractBaseUser,
    mode: Mode,
    account: str,
    old_customer_id: str,
    reason: ReplacedStripeCustomer.Reason,
) -> bool:
    """Forget a customer Stripe no longer knows, keeping a record, so a new one is made.

    Returns whether this call forgot it (``False`` when the mapping had moved on already).
    """
    conf = get_settings()
    since = timezone.now() - timedelta(seconds=conf.REPLACEMENT_WINDOW)
    replaced = 0
    using = router.db_for_write(ReplacedStripeCustomer)
    with transaction.atomic(using=using):
        # Count and replace under one lock, so simultaneous replacements cannot overshoot
        # the limit: SQLite's IMMEDIATE transaction already holds the database's write
        # lock; PostgreSQL takes a table lock that only replacements contend for.
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(ReplacedStripeCustomer._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        recent = ReplacedStripeCustomer.objects.filter(
            mode=mode, account=account, replaced_at__gte=since
        ).count()
        if recent < conf.REPLACEMENT_LIMIT:
            replaced = StripeCustomer.objects.filter(
                user_id=user.pk, mode=mode, account=account, customer_id=old_customer_id
            ).update(customer_id="", idempotency_key=new_idempotency_key(), updated=timezone.now())
            if replaced:
                ReplacedStripeCustomer.objects.create(
                    user_id=user.pk,
                    mode=mode,
                    account=account,
                    customer_id=old_customer_id,
                    reason=reason,
                )
    if recent >= conf.REPLACEMENT_LIMIT:
        logger.error(
            "Stripe reports customer %s of user %s missing, but %s customers were already "
            "replaced in the last %s s; not replacing. Are %s['SECRET_KEY'] and the account "
            "the ones these customers were made with?",
            old_customer_id,
            user.pk,
            recent,
            conf.REPLACEMENT_WINDOW,
            SETTING_NAME,
        )
        raise TooManyReplacements(
            f"More than {conf.REPLACEMENT_LIMIT} mapped customers went missing in Stripe within "
            f"{conf.REPLACEMENT_WINDOW} s; check {SETTING_NAME}['SECRET_KEY'] and the account."
        )
    if replaced:
        logger.warning(
            "Stripe customer %s of user %s is %s; it will be replaced.",
            old_customer_id,
            user.pk,
            reason,
        )
        signals.customer_replaced.send(
            sender=StripeCustomer,
            user=user,
            old_customer_id=old_customer_id,
            mode=mode,
            account=account,
            reason=reason,
        )
    return bool(replaced)


def get_or_create_customer(user: AbstractBaseUser, *, account: str = "") -> str:
    """The Stripe customer id of ``user`` in the configured mode, created on first use."""
    return _run(_customer_steps(user, account))


async def aget_or_create_customer(user: AbstractBaseUser, *, account: str = "") -> str:
    """:func:`get_or_create_customer` for async code (ASGI views, async tasks)."""
    return await _arun(_customer_steps(user, account))


# --- sessions ---------------------------------------------------------------------------


def _is_missing_customer(exc: stripe.StripeError) -> bool:
    return (
        isinstance(exc, stripe.InvalidRequestError)
        and exc.code == "resource_missing"
        and getattr(exc, "param", None) == "customer"
    )


@sensitive_variables()
def _create_session(
    client: stripe.StripeClient,
    user: AbstractBaseUser,
    customer_id: str,
    components: dict[str, Any],
) -> CustomerSession | None:
    """One Stripe request; ``None`` when Stripe does not know the customer.

    Stripe's response object (whose repr shows the secret) never leaves this frame.
    """
    with _stripe_errors("create a customer session", user, customer_id):
        try:
            response = client.v1.customer_sessions.create(
                params=_session_params(customer_id, components)
            )
        except stripe.InvalidRequestError as exc:
            if _is_missing_customer(exc):
                return None
            raise
    return _session_from(response, customer_id, components)


@sensitive_variables()
async def _acreate_session(
    client: stripe.StripeClient,
    user: AbstractBaseUser,
    customer_id: str,
    components: dict[str, Any],
) -> CustomerSession | None:
    """:func:`_create_session`, awaiting Stripe."""
    with _stripe_errors("create a customer session", user, customer_id):
        try:
            response = await client.v1.customer_sessions.create_async(
                params=_session_params(customer_id, components)
            )
        except stripe.InvalidRequestError as exc:
            if _is_missing_customer(exc):
                return None
            raise
    return _session_from(response, customer_id, components)


def _session_params(customer_id: str, components: dict[str, Any]) -> Any:
    return {"customer": customer_id, "components": components}


def _session_from(response: Any, customer_id: str, components: dict[str, Any]) -> CustomerSession:
    return CustomerSession(
        client_secret=ClientSecret(response.client_secret),
        expires_at=int(response.expires_at),
        customer=customer_id,
        livemode=bool(response.livemode),
        components=tuple(name for name, value in components.items() if _enabled(value)),
    )


@sensitive_variables()
def create_customer_session(
    user: AbstractBaseUser, components: str | None = None, *, account: str = ""
) -> CustomerSession:
    """Create a fresh Customer Session for ``user``; its secret is never stored.

    ``components`` names one of ``COMPONENT_PRESETS`` (the default preset when ``None``);
    ``account`` is a connected account id, or ``""`` for the platform. The user's Stripe
    customer is created first if they have none. Raises a subclass of
    :class:`~customer_sessions.exceptions.CustomerSessionError` when Stripe fails.
    """
    return _run(_session_steps(user, components, account))


@sensitive_variables()
async def acreate_customer_session(
    user: AbstractBaseUser, components: str | None = None, *, account: str = ""
) -> CustomerSession:
    """:func:`create_customer_session` for async code: awaits Stripe, blocks no thread.

    Under ASGI one worker serves many users while Stripe answers. Same rules, same errors.
    A user's first customer is still created in a worker thread (see :func:`_arun`).
    """
    return await _arun(_session_steps(user, components, account))


# --- the rules, written once; run by calling (sync) or by awaiting (async) ----------------
#
# A session's rules (which customer, when to create or replace one, what is logged and
# signalled) are generators that yield each I/O step they need and receive its result.
# _run performs the steps by calling, _arun by awaiting; neither decides anything.


@dataclass(frozen=True, slots=True)
class _Mapped:
    """Look up the user's confirmed customer id (one query); ``""`` when there is none."""

    user: Any
    mode: Mode
    account: str


@dataclass(frozen=True, slots=True)
class _NewCustomer:
    """Create and map the user's customer (:func:`_create_customer`); its id."""

    user: Any
    mode: Mode
    account: str


@dataclass(frozen=True, slots=True)
class _NewSession:
    """One Stripe request: a :class:`CustomerSession`, ``None`` if the customer is missing."""

    user: Any
    account: str
    customer_id: str
    components: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Replace:
    """Forget a customer Stripe no longer has (:func:`_replace_customer`)."""

    user: Any
    mode: Mode
    account: str
    customer_id: str
    reason: ReplacedStripeCustomer.Reason


@dataclass(frozen=True, slots=True)
class _Send:
    """Send a signal (receivers may do I/O)."""

    signal: Signal
    kwargs: dict[str, Any]


_Step = _Mapped | _NewCustomer | _NewSession | _Replace | _Send
_T = TypeVar("_T")


def _customer_steps(user: AbstractBaseUser, account: str) -> Generator[_Step, Any, str]:
    _check_user(user)
    mode = stripe_mode(get_settings().require_secret_key())
    return (yield from _mapped_or_new(user, mode, account))


def _mapped_or_new(user: AbstractBaseUser, mode: Mode, account: str) -> Generator[_Step, Any, str]:
    customer_id: str = yield _Mapped(user, mode, account)
    if not customer_id:
        customer_id = yield _NewCustomer(user, mode, account)
    return customer_id


@sensitive_variables()
def _session_steps(
    user: AbstractBaseUser, preset: str | None, account: str
) -> Generator[_Step, Any, CustomerSession]:
    _check_user(user)
    conf = get_settings()
    components = _components(conf, preset)
    mode = stripe_mode(conf.require_secret_key())
    customer_id = yield from _mapped_or_new(user, mode, account)
    result = yield _NewSession(user, account, customer_id, components)
    if result is None:
        reason = ReplacedStripeCustomer.Reason.MISSING
        yield _Replace(user, mode, account, customer_id, reason)
        customer_id = yield from _mapped_or_new(user, mode, account)
        result = yield _NewSession(user, account, customer_id, components)
        if result is None:
            logger.error(
                "Stripe reports the new customer %s of user %s missing.", customer_id, user.pk
            )
            raise StripeInvalidRequest()
    logger.info(
        "Created a customer session for user %s (customer %s, components %s).",
        user.pk,
        customer_id,
        ",".join(result.components),
    )
    yield _Send(
        signals.session_created,
        {
            "sender": StripeCustomer,
            "user": user,
            "customer_id": customer_id,
            "mode": mode,
            "account": account,
            "components": result.components,
            "expires_at": result.expires_at,
        },
    )
    return result


@sensitive_variables()
def _run(steps: Generator[_Step, Any, _T]) -> _T:
    """Perform ``steps`` by calling: the sync API (WSGI views, scripts, tasks)."""
    result: Any = None
    try:
        while True:
            step = steps.send(result)
            if isinstance(step, _Mapped):
                result = _mapped_customer_id(step.user, step.mode, step.account)
            elif isinstance(step, _NewCustomer):
                client = get_client(step.account)
                result = _create_customer(client, step.user, step.mode, step.account)
            elif isinstance(step, _NewSession):
                client = get_client(step.account)
                result = _create_session(client, step.user, step.customer_id, step.components)
            elif isinstance(step, _Replace):
                result = _replace_customer(
                    step.user, step.mode, step.account, step.customer_id, step.reason
                )
            else:
                result = step.signal.send(**step.kwargs)
    except StopIteration as done:
        return done.value
    finally:
        steps.close()


@sensitive_variables()
async def _arun(steps: Generator[_Step, Any, _T], step: _Step | None = None) -> _T:
    """Perform ``steps`` by awaiting: the async API (ASGI views).

    The mapping lookup uses Django's async ORM and the session request awaits Stripe over
    httpx. Two rare steps run in a thread instead, because they need a transaction, which
    Django's async ORM cannot hold: creating a user's first customer (it holds a row lock
    while Stripe answers, so it runs with ``thread_sensitive=False``, in a thread of its
    own, and never stalls the other requests' database work) and replacing a missing one.
    ``step``: the step to perform first, when the steps before it were done elsewhere
    (:func:`_start_in_thread`).
    """
    result: Any = None
    try:
        if step is None:
            step = steps.send(None)
        while True:
            if isinstance(step, _Mapped):
                result = await _amapped_customer_id(step.user, step.mode, step.account)
            elif isinstance(step, _NewCustomer):
                client = get_client(step.account)
                result = await sync_to_async(_create_customer_in_a_thread, thread_sensitive=False)(
                    client, step.user, step.mode, step.account
                )
            elif isinstance(step, _NewSession):
                client = get_async_client(step.account)
                result = await _acreate_session(
                    client, step.user, step.customer_id, step.components
                )
            elif isinstance(step, _Replace):
                result = await sync_to_async(_replace_customer)(
                    step.user, step.mode, step.account, step.customer_id, step.reason
                )
            else:
                result = await step.signal.asend(**step.kwargs)
            step = steps.send(result)
    except StopIteration as done:
        return done.value
    finally:
        steps.close()


@sensitive_variables()
def _start_in_thread(
    user: AbstractBaseUser, preset: str | None, account: str
) -> tuple[Generator[_Step, Any, CustomerSession], _Step]:
    """A session's steps, begun in the calling (sync) thread; continue with :func:`_arun`.

    Everything before the first step that awaits Stripe (the checks and the mapping query)
    is done here. The async endpoint calls this from the thread where it already checks
    the request, so a request goes to a thread once before Stripe instead of twice: under
    load every pass between the event loop and a thread waits behind the other requests'.
    """
    steps = _session_steps(user, preset, account)
    try:
        step = steps.send(None)
        while isinstance(step, _Mapped):
            step = steps.send(_mapped_customer_id(step.user, step.mode, step.account))
    except BaseException:
        steps.close()
        raise
    return steps, step


def _create_customer_in_a_thread(
    client: stripe.StripeClient, user: AbstractBaseUser, mode: Mode, account: str
) -> str:
    try:
        return _create_customer(client, user, mode, account)
    finally:
        # No request starts or ends in this thread to close its database connection
        # (whatever CONN_MAX_AGE says): close it here, so no thread keeps one unwatched.
        connections.close_all()


def _enabled(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value.get("enabled"))


# --- checking and forgetting mappings (admin, management commands, webhooks) -----------


class CustomerStatus(StrEnum):
    """What Stripe says of a mapped customer (:func:`verify_customer`)."""

    OK = "ok"
    #: Stripe answers ``deleted: true`` (someone deleted it, in the dashboard say).
    DELETED = "deleted"
    #: Stripe does not know it (404 ``resource_missing``) with the configured key.
    MISSING = "missing"
    #: Stripe knows it in the other mode (a test customer asked for with a live key).
    WRONG_MODE = "wrong_mode"
    #: The mapping was made in the other mode than the configured key's: not asked.
    OTHER_MODE = "other_mode"
    #: A pending claim: there is no customer to ask about yet.
    PENDING = "pending"


def verify_customer(mapping: StripeCustomer) -> CustomerStatus:
    """Ask Stripe whether ``mapping``'s customer still exists (one request, nothing changed).

    Raises the app's exceptions when Stripe cannot answer (unreachable, key refused).
    """
    if mapping.is_pending:
        return CustomerStatus.PENDING
    mode = stripe_mode(get_settings().require_secret_key())
    if mapping.mode != mode:
        return CustomerStatus.OTHER_MODE
    client = get_client(mapping.account)
    with _stripe_errors("retrieve a customer", mapping.user, mapping.customer_id):
        try:
            customer = client.v1.customers.retrieve(mapping.customer_id)
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            if "a similar object exists in" in (exc.user_message or str(exc)):
                return CustomerStatus.WRONG_MODE
            return CustomerStatus.MISSING
    if getattr(customer, "deleted", False):
        return CustomerStatus.DELETED
    return CustomerStatus.OK


_REASONS = {
    CustomerStatus.DELETED: ReplacedStripeCustomer.Reason.DELETED,
    CustomerStatus.MISSING: ReplacedStripeCustomer.Reason.MISSING,
    CustomerStatus.WRONG_MODE: ReplacedStripeCustomer.Reason.MISSING,
}


def forget_customer(
    customer_id: str,
    reason: ReplacedStripeCustomer.Reason | str,
    *,
    mode: Mode | str | None = None,
    account: str | None = None,
) -> bool:
    """Unmap ``customer_id`` so its user's next session creates a new customer.

    The same rules as when a session finds its customer missing: the old id is kept as a
    :class:`ReplacedStripeCustomer` with ``reason``, ``customer_replaced`` is sent, and at
    most ``REPLACEMENT_LIMIT`` customers per mode and account are forgotten within
    ``REPLACEMENT_WINDOW`` (then :class:`TooManyReplacements`). ``mode``/``account``, when
    given, must match the mapping's. Returns whether a mapping was forgotten.
    """
    rows = StripeCustomer.objects.select_related("user").filter(customer_id=customer_id)
    if mode is not None:
        rows = rows.filter(mode=mode)
    if account is not None:
        rows = rows.filter(account=account)
    mapping = rows.first()
    if mapping is None or not customer_id:
        return False
    return _replace_customer(
        mapping.user,
        Mode(mapping.mode),
        mapping.account,
        customer_id,
        ReplacedStripeCustomer.Reason(reason),
    )


def fix_customer(mapping: StripeCustomer, status: CustomerStatus) -> bool:
    """Forget ``mapping``'s customer if ``status`` says Stripe no longer has it."""
    reason = _REASONS.get(status)
    if reason is None:
        return False
    return forget_customer(mapping.customer_id, reason, mode=mapping.mode, account=mapping.account)
