"""How the app's requests travel to Stripe: one HTTP client on stripe-python's documented base.

:class:`Transport` subclasses ``stripe.HTTPClient``, the base stripe-python documents for
custom clients, and implements its ``request``/``request_async`` methods; retries,
``Retry-After`` and ``Stripe-Should-Retry`` stay stripe-python's own (the base's
``request_with_retries``). It exists instead of stripe-python's stock clients because of
what was measured on them:

- ``RequestsClient`` (sync) lets a ``requests.Session`` look through the whole process
  environment for proxy settings on every request (``trust_env``): about 80 µs with 40
  variables, far more in containers that get hundreds. Here the proxy for the API address
  is read once, when the transport is made (``HTTPS_PROXY``, ``NO_PROXY`` … honoured as
  before), and each thread keeps its own session with ``trust_env`` off.
- ``HTTPXClient`` (async) sends through ``httpx.AsyncClient``, whose per-request work
  (defaults, cookies, authentication, redirects, event hooks: none of which a Stripe
  request needs) cost about 150 µs of the event loop's time per session; its pool keeps at
  most 20 idle connections; and httpcore's pool looks at each of its connections several
  times per request, quadratic in their number, which with 64 sessions waiting for Stripe
  at once cost more CPU than the rest of the request. Here each request goes straight to
  the least busy of ``POOLS`` ``httpx.AsyncHTTPTransport`` pools that keep every
  connection they open (until idle for httpx's 5 seconds).
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import Awaitable, Mapping
from typing import Any

import stripe

_CONNECTION_TROUBLE = (
    "Unexpected error communicating with Stripe. If this problem persists, let us know "
    "at support@stripe.com."
)


def environment_proxies(api_base: str | None) -> dict[str, str]:
    """The proxies the environment names for the Stripe API address, by URL scheme.

    Read for the API address, the only one the app calls (a ``NO_PROXY`` entry that names
    files.stripe.com but not api.stripe.com is not told apart here).
    """
    import requests

    found = requests.utils.get_environ_proxies(api_base or stripe.DEFAULT_API_BASE)
    return {scheme: url for scheme, url in found.items() if scheme != "no"}


class _Sessions(threading.local):
    """A ``requests.Session`` per thread, made when the thread first sends a request."""

    def __init__(self, owner: Transport) -> None:
        import requests

        self.session = requests.Session()
        self.session.trust_env = False
        owner._opened.add(self.session)


class Transport(stripe.HTTPClient):
    """Sync requests over ``requests``, async ones over ``httpx`` (see the module docstring).

    ``before_request`` runs before every request is sent (the app refuses to send while
    stripe-python would print response bodies to the console).
    """

    name = "customer_sessions"
    POOLS = 16

    def __init__(
        self,
        timeout: float,
        api_base: str | None = None,
        *,
        verify_ssl_certs: bool = True,
        before_request: Any = None,
    ) -> None:
        super().__init__(verify_ssl_certs=verify_ssl_certs)
        self.timeout = timeout
        self.api_base = api_base or stripe.DEFAULT_API_BASE
        self.verify = verify_ssl_certs
        self.before_request = before_request
        self.proxies = environment_proxies(self.api_base)
        self._opened: weakref.WeakSet[Any] = weakref.WeakSet()
        self._sessions: _Sessions | None = None
        self._sessions_lock = threading.Lock()
        self._pools: list[Any] | None = None
        self._busy: list[int] = []
        self._extensions: dict[str, Any] = {}

    # --- sync -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        **kwargs: Any,
    ) -> tuple[Any, int, Mapping[str, str]]:
        import requests

        if self.before_request is not None:
            self.before_request()
        if self._sessions is None:
            with self._sessions_lock:
                if self._sessions is None:
                    self._sessions = _Sessions(self)
        try:
            response = self._sessions.session.request(
                method,
                url,
                headers=headers,
                data=post_data,
                timeout=self.timeout,
                proxies=self.proxies or None,
                verify=stripe.ca_bundle_path if self.verify else False,
            )
        except requests.exceptions.SSLError as exc:
            raise _connection_error(exc, should_retry=False) from exc
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            raise _connection_error(exc, should_retry=True) from exc
        except requests.exceptions.RequestException as exc:
            raise _connection_error(exc, should_retry=False) from exc
        headers = _no_retry_of_rate_limits(response.status_code, response.content, response.headers)
        return response.content, response.status_code, headers

    def close(self) -> None:
        for session in list(self._opened):
            session.close()

    # --- async ------------------------------------------------------------------------

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        import httpx

        if self.before_request is not None:
            self.before_request()
        pools = self._pools if self._pools is not None else self._open_pools()
        pool = self._busy.index(min(self._busy))
        self._busy[pool] += 1
        try:
            request = httpx.Request(
                method,
                url,
                headers=headers,
                content=post_data or None,
                extensions=self._extensions,
            )
            try:
                response = await pools[pool].handle_async_request(request)
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
            except httpx.TimeoutException as exc:
                raise _connection_error(exc, should_retry=True) from exc
            except httpx.TransportError as exc:
                raise _connection_error(exc, should_retry=True) from exc
            headers = _no_retry_of_rate_limits(response.status_code, content, response.headers)
            return content, response.status_code, headers
        finally:
            self._busy[pool] -= 1

    def sleep_async(self, secs: float) -> Awaitable[None]:
        # Between stripe-python's own retries of an async request.
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        for pool in self._pools or []:
            await pool.aclose()
        self._pools = None

    def _open_pools(self) -> list[Any]:
        import ssl

        import httpx

        proxy = self.proxies.get(self.api_base.partition(":")[0]) or self.proxies.get("all")
        if proxy and "://" not in proxy:
            proxy = "http://" + proxy  # "proxy.corp:3128", as requests and httpx read it
        verify: Any = (
            ssl.create_default_context(cafile=stripe.ca_bundle_path) if self.verify else False
        )
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        self._pools = [
            httpx.AsyncHTTPTransport(verify=verify, limits=limits, proxy=proxy)
            for _ in range(self.POOLS)
        ]
        self._busy = [0] * self.POOLS
        self._extensions = {"timeout": httpx.Timeout(self.timeout).as_dict()}
        return self._pools


def _no_retry_of_rate_limits(status: int, content: bytes, headers: Any) -> Any:
    """``headers``, with ``Stripe-Should-Retry: false`` when Stripe refused a rate limit.

    stripe-python retries what Stripe marks ``Stripe-Should-Retry: true``, 429s included;
    but every retry of a request refused for the account's rate limit is one more write
    against that same limit, so a flood would feed itself. A ``lock_timeout`` (an object
    busy elsewhere) is left to be retried as Stripe advises; ``Retry-After`` is passed on.
    """
    if status == 429:
        try:
            code = json.loads(content)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        if code == "rate_limit":
            headers["Stripe-Should-Retry"] = "false"
    return headers


def _connection_error(exc: BaseException, *, should_retry: bool) -> stripe.APIConnectionError:
    """What stripe-python's own clients raise for a request that did not get an answer."""
    return stripe.APIConnectionError(
        f"{_CONNECTION_TROUBLE}\n\n(Network error: {type(exc).__name__}: {exc})",
        should_retry=should_retry,
    )
