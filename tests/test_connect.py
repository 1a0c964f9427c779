"""Connect: one user, two connected accounts (and the platform), chosen per request.

The account comes from ``CUSTOMER_SESSIONS["ACCOUNT"]``, a function of the request; here
the shop's host name picks it, as a multi-shop platform would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template import Context, Template
from django.test import AsyncClient, Client, RequestFactory, override_settings

from customer_sessions.exceptions import StripeMisconfigured
from customer_sessions.models import StripeCustomer
from customer_sessions.services import account_for

from .conftest import customer_creates
from .factories import UserFactory

# The async endpoint makes a first customer in a thread of its own: committed users.
pytestmark = pytest.mark.django_db(transaction=True)

SHOPS = {"shop-a.test": "acct_1ShopA", "shop-b.test": "acct_1ShopB"}
HOSTS = ["testserver", *SHOPS]


def account_from_host(request: HttpRequest) -> str:
    """The connected account of the shop the request is for; "" (the platform) otherwise."""
    return SHOPS.get(request.get_host(), "")


#: The endpoint, as customer_sessions.urls (sync) and customer_sessions.urls_async mount it.
VIEWS = {"sync": "tests.urls", "async": "tests.urls_async"}
VIEW: list[str] = ["sync"]


@pytest.fixture(params=list(VIEWS))
def connect(request, fake_stripe) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Accounts chosen by host, through the sync and the async endpoint in turn."""
    conf = {**settings.CUSTOMER_SESSIONS, "ACCOUNT": f"{__name__}.account_from_host"}
    VIEW[:] = [request.param]
    with override_settings(
        CUSTOMER_SESSIONS=conf, ALLOWED_HOSTS=HOSTS, ROOT_URLCONF=VIEWS[request.param]
    ):
        yield fake_stripe


class AsyncClientOnHost(AsyncClient):
    """Django's AsyncClient, its requests sent to ``host`` (it always says "testserver")."""

    def __init__(self, host: str, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.host = host.encode("ascii")

    async def request(self, **request: Any) -> Any:
        request["headers"] = [
            (name, self.host if name == b"host" else value) for name, value in request["headers"]
        ]
        return await super().request(**request)


def post(user, host: str, body: Any = None) -> Any:  # type: ignore[no-untyped-def]
    data = json.dumps(body) if body is not None else ""
    if VIEW[0] == "sync":
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        return client.post("/api/customer-session/", data, content_type="application/json")

    async def scenario() -> Any:
        client = AsyncClientOnHost(host)
        await client.aforce_login(user)
        return await client.post("/api/customer-session/", data, content_type="application/json")

    return async_to_sync(scenario)()


def post_session(user, host: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = post(user, host)
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def render_tag(user, host: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    request = RequestFactory(HTTP_HOST=host).get("/checkout/")
    request.user = user
    html = Template("{% load customer_sessions %}{% customer_session %}").render(
        Context({"request": request})
    )
    payload = re.search(r'type="application/json">(.*?)</script>', html, re.S)
    assert payload, html
    return json.loads(payload.group(1))


def mappings(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(StripeCustomer.objects.filter(user=user).values_list("account", "customer_id"))


def test_endpoint_keeps_one_customer_per_account_for_one_user(connect, user):
    a = post_session(user, "shop-a.test")
    b = post_session(user, "shop-b.test")
    platform = post_session(user, "testserver")

    assert mappings(user) == {
        "acct_1ShopA": a["customer"],
        "acct_1ShopB": b["customer"],
        "": platform["customer"],
    }
    assert len({a["customer"], b["customer"], platform["customer"]}) == 3
    # Each customer lives on its account in Stripe, and every request named that account.
    where = {c["id"]: c.account for c in connect.customers}
    assert where == {
        a["customer"]: "acct_1ShopA",
        b["customer"]: "acct_1ShopB",
        platform["customer"]: "",
    }
    by_account: dict[str | None, list[str]] = {}
    for r in connect.requests:
        by_account.setdefault(r.stripe_account, []).append(r.path)
    assert by_account == {
        "acct_1ShopA": ["/v1/customers", "/v1/customer_sessions"],
        "acct_1ShopB": ["/v1/customers", "/v1/customer_sessions"],
        None: ["/v1/customers", "/v1/customer_sessions"],
    }
    sessions = {s["client_secret"]: s.account for s in connect.customer_sessions}
    assert sessions[a["client_secret"]] == "acct_1ShopA"
    assert sessions[b["client_secret"]] == "acct_1ShopB"

    # The next session on shop A reuses A's customer.
    assert post_session(user, "shop-a.test")["customer"] == a["customer"]
    assert customer_creates(connect) == 3


def test_the_tag_uses_the_requests_account_and_shares_the_mapping_with_the_endpoint(connect, user):
    from_endpoint = post_session(user, "shop-a.test")

    a = render_tag(user, "shop-a.test")
    b = render_tag(user, "shop-b.test")

    sessions = {s["client_secret"]: s for s in connect.customer_sessions}
    assert sessions[a["client_secret"]].account == "acct_1ShopA"
    assert sessions[a["client_secret"]]["customer"] == from_endpoint["customer"]
    assert sessions[b["client_secret"]].account == "acct_1ShopB"
    assert sessions[b["client_secret"]]["customer"] == mappings(user)["acct_1ShopB"]
    assert customer_creates(connect) == 2
    assert connect.requests[-1].stripe_account == "acct_1ShopB"


def test_two_users_on_one_account_get_their_own_customers(connect, user):
    other = UserFactory(password=None)
    mine = post_session(user, "shop-a.test")["customer"]
    theirs = post_session(other, "shop-a.test")["customer"]
    assert mine != theirs
    assert mappings(other) == {"acct_1ShopA": theirs}


def test_a_customer_deleted_on_one_account_is_replaced_there_only(connect, user):
    a = post_session(user, "shop-a.test")["customer"]
    b = post_session(user, "shop-b.test")["customer"]
    connect.delete_customer(a)

    new_a = post_session(user, "shop-a.test")["customer"]

    assert new_a != a
    assert mappings(user) == {"acct_1ShopA": new_a, "acct_1ShopB": b}
    assert post_session(user, "shop-b.test")["customer"] == b


def test_a_body_cannot_choose_the_account(connect, user):
    response = post(user, "shop-a.test", {"account": "acct_1ShopB"})
    assert response.status_code == 400
    assert connect.requests == []


# --- an ACCOUNT function that returns something else -----------------------------------------

#: What a mistaken ACCOUNT function returns: no account id, and not "" either.
NOT_ACCOUNTS = [None, 42, "cus_1Someone", "acct_", "acct_1ShopA\r\nX-Other: 1", b"acct_1ShopA"]
RETURNED: list[Any] = []


def returned_account(request: HttpRequest) -> Any:
    return RETURNED[0]


@pytest.fixture(params=NOT_ACCOUNTS, ids=repr)
def wrong_account(fake_stripe, request) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    RETURNED[:] = [request.param]
    conf = {**settings.CUSTOMER_SESSIONS, "ACCOUNT": f"{__name__}.returned_account"}
    with override_settings(CUSTOMER_SESSIONS=conf):
        yield fake_stripe
    RETURNED.clear()


def expected_message(value: Any) -> str:
    what = "a str that is not" if isinstance(value, str) else f"{type(value).__name__}, not"
    return (
        f"CUSTOMER_SESSIONS['ACCOUNT'] returned {what} \"\" (the platform account) or a "
        'connected account id ("acct_…").'
    )


@pytest.mark.parametrize("urls", ["tests.urls", "tests.urls_async"], ids=["sync", "async"])
def test_the_endpoint_answers_a_wrong_account_with_stripe_misconfigured(
    wrong_account, user, settings, urls, caplog
):
    settings.ROOT_URLCONF = urls
    client = Client()
    client.force_login(user)

    response = client.post("/api/customer-session/", content_type="application/json")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "stripe_misconfigured",
        "detail": expected_message(RETURNED[0]),
    }
    assert "no-store" in response["Cache-Control"]
    assert wrong_account.requests == []
    assert not StripeCustomer.objects.exists()
    assert expected_message(RETURNED[0]) in caplog.text


def test_from_python_a_wrong_account_raises_stripe_misconfigured(wrong_account, user):
    request = RequestFactory().get("/")
    request.user = user

    with pytest.raises(StripeMisconfigured) as raised:
        account_for(request)

    assert str(raised.value) == expected_message(RETURNED[0])
    assert isinstance(raised.value, ImproperlyConfigured)


def test_the_tag_renders_without_a_session_for_a_wrong_account(wrong_account, user, caplog):
    request = RequestFactory().get("/checkout/")
    request.user = user

    html = Template("{% load customer_sessions %}{% customer_session %}").render(
        Context({"request": request})
    )

    assert html == ""
    assert wrong_account.requests == []
    assert any(
        r.levelname == "ERROR" and "stripe_misconfigured" in r.getMessage() for r in caplog.records
    )
