"""The endpoint, ``POST /api/customer-session/``: every test runs against both views.

``sync`` is ``customer_sessions.urls`` (``CustomerSessionView``, through Django's test
client); ``async`` is ``customer_sessions.urls_async`` (``AsyncCustomerSessionView``,
through Django's ``AsyncClient`` in a real event loop, awaiting Stripe over httpx). The
tests are transactional: the async view makes a user's first customer in a thread of its
own, which must see the committed user.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from customer_sessions.api.async_views import AsyncCustomerSessionView
from customer_sessions.api.views import CustomerSessionView
from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import get_or_create_customer

from ..conftest import customer_creates, session_creates
from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/customer-session/"
URLCONFS = {"sync": "tests.urls", "async": "tests.urls_async"}


@dataclass
class Browser:
    """A signed-in (or anonymous) client of one of the two views, used the same way."""

    kind: str
    user: Any = None
    enforce_csrf: bool = False
    client: Any = field(init=False)

    def __post_init__(self) -> None:
        if self.kind == "sync":
            self.client = Client(enforce_csrf_checks=self.enforce_csrf)
            if self.user is not None:
                self.client.force_login(self.user)
        else:
            self.client = AsyncClient(enforce_csrf_checks=self.enforce_csrf)
            if self.user is not None:
                async_to_sync(self.client.aforce_login)(self.user)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        call = getattr(self.client, method)
        return (
            call(*args, **kwargs) if self.kind == "sync" else async_to_sync(call)(*args, **kwargs)
        )

    def post(self, body: Any = None, **extra: Any) -> Any:
        if body is None:
            return self._call("post", URL, **extra)
        return self._call(
            "post", URL, data=json.dumps(body), content_type="application/json", **extra
        )

    def post_raw(self, raw: str, content_type: str, **extra: Any) -> Any:
        return self._call("post", URL, data=raw, content_type=content_type, **extra)

    def get(self, path: str = URL) -> Any:
        return self._call("get", path)

    @property
    def csrf_token(self) -> str:
        return str(self.client.cookies["csrftoken"].value)


@pytest.fixture(params=list(URLCONFS))
def endpoint(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.ROOT_URLCONF = URLCONFS[request.param]
    return str(request.param)


@pytest.fixture
def browser(endpoint: str, user: Any) -> Browser:
    return Browser(endpoint, user)


def test_the_url_is_mounted_where_the_docs_say_by_both_urlconfs(endpoint):
    assert reverse("customer_sessions:customer-session") == URL
    view = resolve(URL).func.view_class  # type: ignore[attr-defined]
    assert view is {"sync": CustomerSessionView, "async": AsyncCustomerSessionView}[endpoint]


def test_a_signed_in_user_gets_a_fresh_session(fake_stripe, browser, user):
    first = browser.post()
    second = browser.post({})

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    body = first.json()
    assert set(body) == {"client_secret", "expires_at", "customer"}
    assert body["client_secret"].startswith("cuss_secret_")
    assert body["client_secret"] != second.json()["client_secret"]
    assert body["customer"] == StripeCustomer.objects.get(user=user).customer_id
    assert isinstance(body["expires_at"], int)
    assert first["Content-Type"] == "application/json"
    assert {"no-store", "private"} <= {p.strip() for p in first["Cache-Control"].split(",")}
    assert customer_creates(fake_stripe) == 1


def test_the_components_preset_comes_from_the_body(fake_stripe, browser):
    response = browser.post({"components": "pricing_table"})
    assert response.status_code == 201
    assert set(fake_stripe.requests[-1].params["components"]) == {"pricing_table"}


def test_a_mapped_user_costs_one_stripe_request_and_one_app_query(fake_stripe, browser, user):
    get_or_create_customer(user)
    before = len(fake_stripe.requests)

    with CaptureQueriesContext(connection) as queries:
        response = browser.post()

    assert response.status_code == 201
    assert [r.path for r in fake_stripe.requests[before:]] == ["/v1/customer_sessions"]
    app = [q["sql"] for q in queries if "customer_sessions_" in q["sql"]]
    assert len(app) == 1, app


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"customer": "cus_someone_else"}, "customer", "unknown_field"),
        ({"components": "pricing_table", "customer": "cus_x"}, "customer", "unknown_field"),
        ({"components": "no-such-preset"}, "components", "unknown_components"),
        ({"components": 5}, "components", None),
        ({"components": ""}, "components", None),
    ],
)
def test_a_bad_body_is_400_and_never_reaches_stripe(fake_stripe, browser, body, field, code):
    response = browser.post(body)

    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "invalid"
    assert field in payload["errors"]
    assert fake_stripe.requests == []
    assert StripeCustomer.objects.count() == 0
    if code == "unknown_components":
        assert "payment_element" in payload["errors"][field][0]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("[1, 2]", "application/json", 400, "invalid"),
        ("{not json", "application/json", 400, "parse_error"),
        ("components", "text/plain", 415, "unsupported_media_type"),
        ("customer=cus_x", "application/x-www-form-urlencoded", 400, "invalid"),
    ],
)
def test_malformed_requests_get_json_errors(fake_stripe, browser, raw, content_type, status, code):
    response = browser.post_raw(raw, content_type)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert fake_stripe.requests == []


def test_anonymous_is_refused_without_calling_stripe(fake_stripe, endpoint):
    response = Browser(endpoint).post()
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    assert "no-store" in response["Cache-Control"]
    assert fake_stripe.requests == []


def test_an_inactive_user_is_refused(fake_stripe, endpoint):
    response = Browser(endpoint, UserFactory(is_active=False)).post()
    assert response.status_code in (401, 403)
    assert fake_stripe.requests == []


def test_get_is_not_allowed(fake_stripe, browser):
    response = browser.get()
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_csrf_is_enforced_with_session_auth(fake_stripe, endpoint, user):
    browser = Browser(endpoint, user, enforce_csrf=True)
    refused = browser.post()
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert fake_stripe.requests == []

    browser.get("/accounts/login/")  # sets the CSRF cookie
    accepted = browser.post(headers={"X-CSRFToken": browser.csrf_token})
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (lambda f: f.fail_next(500, times=None), 503, "stripe_unavailable"),
        (lambda f: f.drop_next(times=None), 503, "stripe_unavailable"),
        (lambda f: f.fail_next(429, times=None), 503, "stripe_rate_limited"),
        (lambda f: f.fail_next(401), 500, "stripe_misconfigured"),
        (lambda f: f.fail_next(403), 500, "stripe_misconfigured"),
        (lambda f: f.fail_next(400), 500, "stripe_invalid_request"),
    ],
    ids=["500", "dropped", "429", "401", "403", "400"],
)
def test_stripe_failures_are_json_with_a_stable_code(
    fake_stripe, browser, user, settings, fault, status, code
):
    get_or_create_customer(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fault(fake_stripe)
    response = browser.post()

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert fake_stripe.secret_key not in response.content.decode()
    if status == 503:
        assert int(response["Retry-After"]) >= 1
    assert "no-store" in response["Cache-Control"]


def test_a_missing_key_answers_500_naming_the_setting(browser, settings):
    settings.CUSTOMER_SESSIONS = {}
    response = browser.post()
    assert response.status_code == 500
    assert response.json() == {"code": "stripe_misconfigured", "detail": response.json()["detail"]}
    assert "CUSTOMER_SESSIONS['SECRET_KEY']" in response.json()["detail"]


def test_the_throttle_engages_per_user_with_retry_after(fake_stripe, browser, endpoint, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": "3/min"}
    statuses = [browser.post().status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = browser.post()
    assert limited.json()["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    assert session_creates(fake_stripe) == 3

    assert Browser(endpoint, UserFactory()).post().status_code == 201


def test_a_site_can_tune_the_throttle_scope(fake_stripe, browser, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"customer_session": "1/min"},
    }
    assert [browser.post().status_code for _ in range(2)] == [201, 429]


def test_the_connected_account_comes_from_the_request(fake_stripe, browser, settings, user):
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        # A site's own rule, e.g. the shop the signed-in user belongs to.
        "ACCOUNT": lambda request: f"acct_shop{request.user.pk}",
    }
    response = browser.post()
    assert response.status_code == 201
    assert fake_stripe.requests[-1].stripe_account == f"acct_shop{user.pk}"
    assert StripeCustomer.objects.get(user=user).account == f"acct_shop{user.pk}"


def test_a_deleted_customer_is_replaced_once(fake_stripe, browser, user):
    old = get_or_create_customer(user)
    fake_stripe.delete_customer(old)

    response = browser.post()

    assert response.status_code == 201, response.content
    new = response.json()["customer"]
    assert new != old
    assert StripeCustomer.objects.get(user=user).customer_id == new
    assert ReplacedStripeCustomer.objects.get(user=user).customer_id == old
    assert customer_creates(fake_stripe) == 2  # the first one, and its one replacement


def test_later_sessions_reuse_the_customer_the_first_one_made(fake_stripe, browser):
    first, second = browser.post(), browser.post()

    assert first.status_code == second.status_code == 201
    assert first.json()["customer"] == second.json()["customer"]
    assert customer_creates(fake_stripe) == 1


def test_the_async_view_serves_concurrent_users_while_stripe_answers(fake_stripe, settings):
    """Four requests awaiting Stripe at once hold four connections, not one thread each."""
    settings.ROOT_URLCONF = URLCONFS["async"]
    users = [UserFactory() for _ in range(4)]
    for user in users:
        get_or_create_customer(user)
    fake_stripe.drop_connections()
    fake_stripe.delay(0.3, path="/v1/customer_sessions")

    async def scenario() -> list[Any]:
        clients = [AsyncClient() for _ in users]
        for client, user in zip(clients, users, strict=True):
            await client.aforce_login(user)
        return await asyncio.gather(*(client.post(URL) for client in clients))

    responses = async_to_sync(scenario)()

    assert [r.status_code for r in responses] == [201] * 4
    assert fake_stripe.connections == 4
