"""How requests travel to Stripe: kept-alive connections, and the proxy environment.

The app's transport (requests for the sync API, httpx for the async one) keeps its
connections to Stripe open between sessions (one per thread, one set of pools per event
loop), and reads ``HTTP(S)_PROXY``/``ALL_PROXY``/``NO_PROXY`` once, when it is made,
instead of on every request; the proxy tests send sessions through a real forwarding proxy
on loopback.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync

from customer_sessions.models import StripeCustomer
from customer_sessions.services import (
    acreate_customer_session,
    create_customer_session,
    get_async_client,
)

from ..conftest import session_creates


def run(coro_func: Any, *args: Any, **kwargs: Any) -> Any:
    return async_to_sync(coro_func)(*args, **kwargs)


@pytest.mark.django_db
def test_sync_connections_are_reused(fake_stripe, user):
    for _ in range(20):
        create_customer_session(user, throttle=False)
    assert fake_stripe.connections == 1


@pytest.mark.django_db
def test_one_connection_per_loop_reused_across_100_sessions(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": None}
    create_customer_session(user)
    fake_stripe.reset()  # forget the sync client's connection
    StripeCustomer.objects.filter(user=user).update(
        customer_id=fake_stripe.create_customer(email=user.email)["id"]
    )

    async def hundred() -> tuple[Any, Any]:
        for _ in range(100):
            await acreate_customer_session(user)
        return get_async_client(), get_async_client()

    first, second = run(hundred)

    assert session_creates(fake_stripe) == 100
    assert fake_stripe.connections == 1
    assert first is second
    assert run(get_async_client_in_a_new_loop) is not first  # no client crosses loops


async def get_async_client_in_a_new_loop() -> Any:
    return get_async_client()


class _Forwarder(BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: absolute-form request in, same request to the origin."""

    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        target = urlsplit(self.path)
        self.server.seen.append((self.command, target.path))  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream.request(self.command, target.path or "/", body=body, headers=headers)
        answer = upstream.getresponse()
        payload = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forwarder)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _proxy_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Whatever proxies this machine has configured, each test sets its own."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.django_db(transaction=True)
def test_sessions_go_through_the_proxy_the_environment_names(fake_stripe, user, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))

    first = create_customer_session(user)
    second = create_customer_session(user)

    assert first.customer == second.customer
    assert proxy.seen == [  # type: ignore[attr-defined]
        ("POST", "/v1/customers"),
        ("POST", "/v1/customer_sessions"),
        ("POST", "/v1/customer_sessions"),
    ]
    assert [r.path for r in fake_stripe.requests] == [p for _, p in proxy.seen]  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_a_proxy_named_without_a_scheme_is_an_http_proxy(fake_stripe, user, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy).removeprefix("http://"))

    create_customer_session(user)

    assert [p for _, p in proxy.seen] == ["/v1/customers", "/v1/customer_sessions"]  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_no_proxy_sends_stripe_requests_directly(fake_stripe, user, proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    create_customer_session(user)

    assert proxy.seen == []  # type: ignore[attr-defined]
    assert [r.path for r in fake_stripe.requests] == ["/v1/customers", "/v1/customer_sessions"]


@pytest.mark.django_db(transaction=True)
def test_the_proxy_environment_is_read_when_the_client_is_made(
    fake_stripe, user, proxy, monkeypatch
):
    """Not on every request: that scan of the environment cost about 80 µs per session."""
    create_customer_session(user)  # the client exists, made without a proxy

    monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))
    create_customer_session(user)

    assert proxy.seen == []  # type: ignore[attr-defined]
    assert [r.path for r in fake_stripe.requests][-1] == "/v1/customer_sessions"


# --- the async client (httpx), which reads the same environment once too -------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("variable", "scheme"),
    [("HTTP_PROXY", "http://"), ("ALL_PROXY", "http://"), ("HTTP_PROXY", "")],
    ids=["http-proxy", "all-proxy", "no-scheme"],
)
def test_async_sessions_go_through_the_proxy_the_environment_names(
    fake_stripe, user, proxy, monkeypatch, variable, scheme
):
    monkeypatch.setenv(variable, _proxy_url(proxy).replace("http://", scheme))

    async def two_sessions() -> tuple[str, str]:
        first = await acreate_customer_session(user)
        second = await acreate_customer_session(user)
        return first.customer, second.customer

    first, second = async_to_sync(two_sessions)()

    assert first == second
    assert proxy.seen == [  # type: ignore[attr-defined]
        ("POST", "/v1/customers"),  # the first customer: the sync client, in a thread
        ("POST", "/v1/customer_sessions"),
        ("POST", "/v1/customer_sessions"),
    ]


@pytest.mark.django_db(transaction=True)
def test_no_proxy_sends_async_stripe_requests_directly(fake_stripe, user, proxy, monkeypatch):
    monkeypatch.setenv("ALL_PROXY", _proxy_url(proxy))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")

    async_to_sync(acreate_customer_session)(user)

    assert proxy.seen == []  # type: ignore[attr-defined]
    assert [r.path for r in fake_stripe.requests] == ["/v1/customers", "/v1/customer_sessions"]


@pytest.mark.django_db(transaction=True)
def test_the_async_client_reads_the_proxy_environment_when_it_is_made(
    fake_stripe, user, proxy, monkeypatch
):
    async def session_then_proxy_then_session() -> None:
        await acreate_customer_session(user)  # this loop's client exists, made without a proxy
        monkeypatch.setenv("HTTP_PROXY", _proxy_url(proxy))
        await acreate_customer_session(user)

    async_to_sync(session_then_proxy_then_session)()

    assert proxy.seen == []  # type: ignore[attr-defined]
    assert [r.path for r in fake_stripe.requests][-1] == "/v1/customer_sessions"


# --- Stripe's own rate limit: no retry storms ------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_rate_limited_request_is_never_retried_even_when_stripe_says_so(
    fake_stripe, user, settings, twin
):
    from customer_sessions.exceptions import StripeRateLimited
    from customer_sessions.services import get_or_create_customer

    get_or_create_customer(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 3}
    # A flood: every write refused for the account's rate limit, "retry" advised.
    fake_stripe.fail_next(
        429, times=None, headers={"Retry-After": "2", "Stripe-Should-Retry": "true"}
    )
    create = create_customer_session if twin == "sync" else async_to_sync(acreate_customer_session)
    for _ in range(5):
        with pytest.raises(StripeRateLimited) as info:
            create(user, throttle=False)
        assert info.value.retry_after == 2
    # One request per session: each retry would have been one more write against the limit.
    assert len(fake_stripe.requests_to("POST", "/v1/customer_sessions")) == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_lock_timeout_is_still_retried_as_stripe_advises(fake_stripe, user, settings, twin):
    from customer_sessions.services import get_or_create_customer

    get_or_create_customer(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 2}
    fake_stripe.fail_next(
        429,
        error={"type": "invalid_request_error", "code": "lock_timeout", "message": "Busy."},
        headers={"Stripe-Should-Retry": "true"},
        path="/v1/customer_sessions",
    )
    create = create_customer_session if twin == "sync" else async_to_sync(acreate_customer_session)
    create(user, throttle=False)
    statuses = [r.status for r in fake_stripe.requests_to("POST", "/v1/customer_sessions")]
    assert statuses == [429, 200]
