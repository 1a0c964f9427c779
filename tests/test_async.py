"""The async path: acreate_customer_session and the ASGI endpoint (customer_sessions.urls_async).

Each test drives real coroutines in a real event loop (``async_to_sync``) against the Stripe
double over httpx. Django runs the async ORM's queries back in the test's thread, so they see
the test's transaction; creating a first customer happens in a thread of its own, so those
tests commit (``transaction=True``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import resolve

from customer_sessions import signals
from customer_sessions.api.async_views import AsyncCustomerSessionView
from customer_sessions.exceptions import StripeUnavailable, UnknownComponents
from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    acreate_customer_session,
    aget_or_create_customer,
    create_customer_session,
    get_async_client,
    get_or_create_customer,
)

from .conftest import customer_creates, session_creates
from .factories import UserFactory

URL = "/api/customer-session/"


@pytest.fixture
def asgi_urls(settings):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.urls_async"


def run(coro_func, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
    return async_to_sync(coro_func)(*args, **kwargs)


def app_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if "customer_sessions_" in q["sql"]]


async def apost(client: AsyncClient, body: Any = None, **extra: Any) -> Any:
    if body is None:
        return await client.post(URL, **extra)
    return await client.post(URL, data=json.dumps(body), content_type="application/json", **extra)


# --- the Python API ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_first_async_session_creates_one_customer(fake_stripe):
    user = UserFactory()
    created: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        created.append(kwargs)

    signals.session_created.connect(receiver)
    try:
        session = run(acreate_customer_session, user, "pricing_table")
    finally:
        signals.session_created.disconnect(receiver)

    assert customer_creates(fake_stripe) == 1
    assert session_creates(fake_stripe) == 1
    assert session.customer == StripeCustomer.objects.get(user=user).customer_id
    assert session.client_secret == fake_stripe.customer_sessions[-1]["client_secret"]
    assert session.components == ("pricing_table",)
    assert [c["customer_id"] for c in created] == [session.customer]
    assert run(aget_or_create_customer, user) == session.customer


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_async_sessions_make_one_customer(fake_stripe):
    user = UserFactory()
    fake_stripe.delay(0.2, path="/v1/customers")

    async def many() -> list[Any]:
        return await asyncio.gather(*(acreate_customer_session(user) for _ in range(6)))

    sessions = run(many)

    assert customer_creates(fake_stripe) == 1
    assert {s.customer for s in sessions} == {StripeCustomer.objects.get(user=user).customer_id}
    assert len({s.client_secret for s in sessions}) == 6


@pytest.mark.django_db
def test_mapped_user_costs_one_stripe_request_and_one_query(fake_stripe, user):
    customer_id = create_customer_session(user).customer
    before = len(fake_stripe.requests)

    with CaptureQueriesContext(connection) as queries:
        session = run(acreate_customer_session, user)

    assert [r.path for r in fake_stripe.requests[before:]] == ["/v1/customer_sessions"]
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert session.customer == customer_id


@pytest.mark.django_db
def test_async_errors_are_the_sync_ones(fake_stripe, user, settings):
    create_customer_session(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    with pytest.raises(UnknownComponents):
        run(acreate_customer_session, user, "no-such-preset")
    fake_stripe.fail_next(500)
    with pytest.raises(StripeUnavailable) as raised:
        run(acreate_customer_session, user)
    assert raised.value.retry_after == 1


@pytest.mark.django_db(transaction=True)
def test_async_replaces_a_deleted_customer(fake_stripe):
    user = UserFactory()
    old = create_customer_session(user).customer
    fake_stripe.delete_customer(old)

    session = run(acreate_customer_session, user)

    assert session.customer != old
    assert StripeCustomer.objects.get(user=user).customer_id == session.customer
    assert ReplacedStripeCustomer.objects.get(user=user).customer_id == old


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


@pytest.mark.django_db
def test_concurrent_sessions_in_one_loop_wait_for_stripe_together(fake_stripe, user):
    """Five sessions awaited at once are in flight together: five connections, one thread."""
    create_customer_session(user)
    fake_stripe.reset()
    StripeCustomer.objects.filter(user=user).update(
        customer_id=fake_stripe.create_customer(email=user.email)["id"]
    )
    fake_stripe.delay(0.3, path="/v1/customer_sessions")

    async def five() -> list[Any]:
        return await asyncio.gather(*(acreate_customer_session(user) for _ in range(5)))

    run(five)

    assert session_creates(fake_stripe) == 5
    assert fake_stripe.connections == 5


# --- the endpoint --------------------------------------------------------------------


def test_asgi_urls_serve_the_async_view_under_the_same_name(asgi_urls):
    match = resolve(URL, urlconf="tests.urls_async")
    assert match.view_name == "customer_sessions:customer-session"
    assert match.func.view_class is AsyncCustomerSessionView  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_endpoint_answers_a_fresh_session(fake_stripe, asgi_urls):
    user = UserFactory()

    async def scenario() -> tuple[Any, Any]:
        client = AsyncClient()
        await client.aforce_login(user)
        return await apost(client), await apost(client, {"components": "pricing_table"})

    first, second = run(scenario)

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    body = first.json()
    assert set(body) == {"client_secret", "expires_at", "customer"}
    assert body["client_secret"] != second.json()["client_secret"]
    assert body["customer"] == StripeCustomer.objects.get(user=user).customer_id
    assert first["Content-Type"] == "application/json"
    assert {"no-store", "private"} <= {p.strip() for p in first["Cache-Control"].split(",")}
    assert set(fake_stripe.requests[-1].params["components"]) == {"pricing_table"}
    assert customer_creates(fake_stripe) == 1


@pytest.mark.django_db
def test_endpoint_mapped_user_costs_one_stripe_request_and_one_app_query(
    fake_stripe, user, asgi_urls
):
    create_customer_session(user)
    before = len(fake_stripe.requests)

    client = AsyncClient()
    run(client.aforce_login, user)
    with CaptureQueriesContext(connection) as queries:
        response = run(apost, client)

    assert response.status_code == 201
    assert [r.path for r in fake_stripe.requests[before:]] == ["/v1/customer_sessions"]
    assert len(app_queries(queries)) == 1, [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({"customer": "cus_someone_else"}, "customer"), ({"components": "nope"}, "components")],
)
def test_endpoint_refuses_bad_bodies_before_stripe(fake_stripe, user, asgi_urls, body, field):
    async def scenario() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await apost(client, body)

    response = run(scenario)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert fake_stripe.requests == []


@pytest.mark.django_db
def test_endpoint_refuses_anonymous_inactive_and_get(fake_stripe, asgi_urls):
    inactive = UserFactory(is_active=False)

    async def scenario() -> tuple[Any, Any, Any]:
        anonymous = await apost(AsyncClient())
        client = AsyncClient()
        await client.aforce_login(inactive)
        return anonymous, await apost(client), await client.get(URL)

    anonymous, refused, get = run(scenario)

    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["code"] == "not_authenticated"
    assert refused.status_code in (401, 403)
    assert get.status_code in (403, 405)
    assert "no-store" in anonymous["Cache-Control"]
    assert fake_stripe.requests == []


@pytest.mark.django_db
def test_endpoint_get_is_not_allowed(fake_stripe, user, asgi_urls):
    async def scenario() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await client.get(URL)

    response = run(scenario)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_endpoint_enforces_csrf_with_session_auth(fake_stripe, user, asgi_urls):
    create_customer_session(user)  # mapped: the customer is made in a thread of its own

    async def scenario() -> tuple[Any, Any]:
        client = AsyncClient(enforce_csrf_checks=True)
        await client.aforce_login(user)
        refused = await apost(client)
        await client.get("/accounts/login/")  # sets the CSRF cookie
        token = client.cookies["csrftoken"].value
        return refused, await apost(client, headers={"X-CSRFToken": token})

    refused, accepted = run(scenario)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201


@pytest.mark.django_db
def test_endpoint_throttles_per_user(fake_stripe, user, asgi_urls, settings):
    get_or_create_customer(user)
    fake_stripe.reset()
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": "3/min"}
    StripeCustomer.objects.filter(user=user).update(
        customer_id=fake_stripe.create_customer(email=user.email)["id"]
    )

    async def scenario() -> list[Any]:
        client = AsyncClient()
        await client.aforce_login(user)
        return [await apost(client) for _ in range(4)]

    responses = run(scenario)

    assert [r.status_code for r in responses] == [201, 201, 201, 429]
    assert responses[-1].json()["code"] == "throttled"
    assert int(responses[-1]["Retry-After"]) > 0
    assert session_creates(fake_stripe) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "code"), [(500, "stripe_unavailable"), (429, "stripe_rate_limited")]
)
def test_endpoint_stripe_failures_are_json_with_a_stable_code(
    fake_stripe, user, asgi_urls, settings, status, code
):
    create_customer_session(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.fail_next(status, times=None)

    async def scenario() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await apost(client)

    response = run(scenario)

    assert response.status_code == 503
    assert response.json()["code"] == code
    assert int(response["Retry-After"]) >= 1
    assert "no-store" in response["Cache-Control"]
    assert fake_stripe.secret_key not in response.content.decode()


@pytest.mark.django_db
def test_endpoint_serves_concurrent_users_while_stripe_answers(fake_stripe, asgi_urls):
    """Four requests awaiting Stripe at once hold four connections, not one thread each."""
    users = [UserFactory() for _ in range(4)]
    for user in users:
        create_customer_session(user)
    fake_stripe.reset()
    for user in users:
        StripeCustomer.objects.filter(user=user).update(
            customer_id=fake_stripe.create_customer(email=user.email)["id"]
        )
    fake_stripe.delay(0.3, path="/v1/customer_sessions")

    async def scenario() -> list[Any]:
        clients = [AsyncClient() for _ in users]
        for client, user in zip(clients, users, strict=True):
            await client.aforce_login(user)
        return await asyncio.gather(*(apost(client) for client in clients))

    responses = run(scenario)

    assert [r.status_code for r in responses] == [201] * 4
    assert fake_stripe.connections == 4
