"""``create_customer_session`` and ``acreate_customer_session``: every test runs both twins.

The async twin runs in a real event loop (``async_to_sync``) and awaits Stripe over httpx;
the tests are transactional because it makes a user's first customer in a thread of its
own. Both must give the same answers, the same customers, the same log lines and the same
signals (tests/reliability/test_faults.py compares them for every fault as well).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path

from customer_sessions import signals
from customer_sessions.exceptions import CustomerSessionError, StripeUnavailable, UnknownComponents
from customer_sessions.models import Mode, ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import (
    acreate_customer_session,
    aget_or_create_customer,
    create_customer_session,
    get_or_create_customer,
)

from .conftest import customer_creates, session_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

Create = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def create(request: pytest.FixtureRequest) -> Create:
    """``create_customer_session``, or its async twin run in an event loop."""
    if request.param == "sync":
        return create_customer_session
    return async_to_sync(acreate_customer_session)


@pytest.fixture(params=["sync", "async"])
def customer_of(request: pytest.FixtureRequest) -> Create:
    if request.param == "sync":
        return get_or_create_customer
    return async_to_sync(aget_or_create_customer)


@pytest.fixture
def received() -> Any:
    """Every signal the app sends during the test: (name, kwargs)."""
    log: list[tuple[str, dict[str, Any]]] = []
    receivers = {}
    for name in ("customer_created", "customer_replaced", "session_created"):

        def receiver(name: str = name, **kwargs: Any) -> None:
            log.append((name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield log
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_a_first_session_creates_one_customer_and_one_row(fake_stripe, create, user, received):
    session = create(user)

    assert customer_creates(fake_stripe) == 1
    assert session_creates(fake_stripe) == 1
    row = StripeCustomer.objects.get(user=user)
    assert (row.mode, row.account, row.customer_id) == (Mode.TEST, "", session.customer)
    customer = next(c for c in fake_stripe.customers if c["id"] == session.customer)
    assert customer["email"] == user.email
    assert customer["name"] == user.get_full_name()
    assert customer["metadata"] == {"django_user_id": str(user.pk)}
    assert session.client_secret == fake_stripe.customer_sessions[-1]["client_secret"]
    assert session.client_secret.startswith("cuss_secret_")
    assert session.livemode is False
    assert session.enabled_components == ("payment_element",)
    assert [name for name, _ in received] == ["customer_created", "session_created"]


def test_a_mapped_user_costs_one_stripe_request_and_one_query(fake_stripe, create, user):
    get_or_create_customer(user)
    before = len(fake_stripe.requests)

    with CaptureQueriesContext(connection) as queries:
        session = create(user)

    assert [r.path for r in fake_stripe.requests[before:]] == ["/v1/customer_sessions"]
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert session.customer == StripeCustomer.objects.get(user=user).customer_id


def test_every_session_is_fresh(fake_stripe, create, user):
    secrets = {create(user).client_secret for _ in range(5)}
    assert len(secrets) == 5
    assert customer_creates(fake_stripe) == 1


def test_the_default_components_are_sent(fake_stripe, create, user):
    create(user)
    sent = fake_stripe.requests[-1].params
    assert sent["components"]["payment_element"]["enabled"] in (True, "true")
    features = sent["components"]["payment_element"]["features"]
    assert features["payment_method_redisplay"] == "enabled"
    assert features["payment_method_save"] == "enabled"
    assert features["payment_method_remove"] == "enabled"


def test_the_preset_is_chosen_per_call(fake_stripe, create, user, settings):
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "COMPONENT_PRESETS": {
            "payment_element": {"payment_element": {"enabled": True}},
            "table": {"pricing_table": {"enabled": True}},
        },
    }
    session = create(user, "table")
    assert session.enabled_components == ("pricing_table",)
    assert set(fake_stripe.requests[-1].params["components"]) == {"pricing_table"}


def test_an_unknown_preset_is_refused_before_stripe(fake_stripe, create, user):
    with pytest.raises(UnknownComponents, match="pricing_table"):
        create(user, "nope")
    assert fake_stripe.requests == []


def test_anonymous_and_inactive_users_get_nothing(fake_stripe, create):
    with pytest.raises(PermissionDenied):
        create(AnonymousUser())
    with pytest.raises(PermissionDenied):
        create(UserFactory(is_active=False))
    assert fake_stripe.requests == []


def test_the_value_hides_the_secret_and_cannot_be_stored(fake_stripe, create, user):
    session = create(user)
    assert session.client_secret not in repr(session)
    assert session.client_secret not in str(session)
    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(session)


def test_stripe_being_down_is_the_same_error(fake_stripe, create, user, settings):
    get_or_create_customer(user)
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": 0}
    fake_stripe.fail_next(500)
    with pytest.raises(StripeUnavailable) as raised:
        create(user)
    assert raised.value.retry_after == 1


def test_a_deleted_customer_is_replaced_once_and_recorded(fake_stripe, create, user, received):
    old = get_or_create_customer(user)
    old_key = StripeCustomer.objects.get(user=user).idempotency_key
    fake_stripe.delete_customer(old)
    received.clear()

    session = create(user)

    assert session.customer != old
    row = StripeCustomer.objects.get(user=user)
    assert row.customer_id == session.customer
    assert row.idempotency_key != old_key
    record = ReplacedStripeCustomer.objects.get(user=user)
    assert (record.customer_id, record.reason) == (old, "deleted")
    # Stripe was asked what became of the customer before it was replaced.
    assert [r.path for r in fake_stripe.requests_to("GET")] == [f"/v1/customers/{old}"]
    assert [name for name, _ in received] == [
        "customer_replaced",
        "customer_created",
        "session_created",
    ]
    assert received[0][1]["old_customer_id"] == old


def test_concurrent_first_sessions_in_one_loop_make_one_customer(fake_stripe):
    user = UserFactory()
    fake_stripe.delay(0.2, path="/v1/customers")

    async def many() -> list[Any]:
        return await asyncio.gather(*(acreate_customer_session(user) for _ in range(6)))

    sessions = async_to_sync(many)()

    assert customer_creates(fake_stripe) == 1
    assert {s.customer for s in sessions} == {StripeCustomer.objects.get(user=user).customer_id}
    assert len({s.client_secret for s in sessions}) == 6


def test_get_or_create_customer_is_one_customer_however_asked(fake_stripe, customer_of, user):
    first = customer_of(user)
    assert customer_of(user) == first
    assert create_customer_session(user).customer == first
    assert [c["id"] for c in fake_stripe.customers] == [first]


def test_both_twins_log_the_same_lines(fake_stripe, caplog):
    """The same steps, the same words: a sync and an async first session, side by side."""

    def lines_of(create: Create) -> list[tuple[str, str]]:
        user = UserFactory()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="customer_sessions"):
            session = create(user)
        return [
            (
                r.levelname,
                r.getMessage()
                .replace(str(user.pk), "<user>")
                .replace(session.customer, "<customer>"),
            )
            for r in caplog.records
            if r.name.startswith("customer_sessions")
        ]

    sync = lines_of(create_customer_session)
    assert sync == lines_of(async_to_sync(acreate_customer_session))
    assert [level for level, _ in sync] == ["INFO", "INFO"]


# --- a site's own view on the Python API ---------------------------------------------


def my_checkout_session(request: HttpRequest) -> JsonResponse:
    """What a site writes when it wants its own view instead of the app's endpoint."""
    try:
        session = create_customer_session(request.user, "buy_button")  # type: ignore[arg-type]
    except CustomerSessionError as exc:
        return JsonResponse({"error": exc.code}, status=exc.status_code)
    return JsonResponse({"secret": session.client_secret, "expires": session.expires_at})


urlpatterns = [path("my/checkout-session/", my_checkout_session)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_site_view_built_on_the_python_api(fake_stripe, signed_in, user):
    response = signed_in.get("/my/checkout-session/")

    assert response.status_code == 200
    assert response.json()["secret"] == fake_stripe.customer_sessions[-1]["client_secret"]
    sent = fake_stripe.requests_to("POST", "/v1/customer_sessions")[-1].params
    assert sent["components"] == {"buy_button": {"enabled": "true"}}

    fake_stripe.fail_next(429, headers={"Retry-After": "3"}, times=None)
    throttled = signed_in.get("/my/checkout-session/")
    assert (throttled.status_code, throttled.json()) == (503, {"error": "stripe_rate_limited"})


@override_settings(ROOT_URLCONF=__name__)
def test_the_python_api_refuses_anonymous_users(fake_stripe):
    assert Client().get("/my/checkout-session/").status_code == 403  # PermissionDenied
    assert fake_stripe.requests == []
