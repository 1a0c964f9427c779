"""What sites build on: signals, the customer-parameters function, presets, the Python API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import path

from customer_sessions import signals
from customer_sessions.exceptions import CustomerSessionError
from customer_sessions.services import create_customer_session, get_or_create_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def received() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every signal the app sends during the test, with its arguments."""
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


def test_signals_name_user_customer_mode_and_account_and_never_the_secret(
    fake_stripe, user, received
):
    first = create_customer_session(user, "pricing_table")
    fake_stripe.delete_customer(first.customer)
    second = create_customer_session(user)

    names = [name for name, _ in received]
    assert names == [
        "customer_created",
        "session_created",
        "customer_replaced",
        "customer_created",
        "session_created",
    ]
    created, session, replaced = received[0][1], received[1][1], received[2][1]
    assert {k: created[k] for k in ("user", "customer_id", "mode", "account")} == {
        "user": user,
        "customer_id": first.customer,
        "mode": "test",
        "account": "",
    }
    assert set(session) == {
        "signal",
        "sender",
        "user",
        "customer_id",
        "mode",
        "account",
        "components",
        "expires_at",
    }
    assert (session["customer_id"], session["components"]) == (first.customer, ("pricing_table",))
    assert session["expires_at"] == first.expires_at
    assert (replaced["old_customer_id"], replaced["reason"]) == (first.customer, "deleted")
    # No argument of any signal holds a client secret, however it is printed.
    for _, kwargs in received:
        for value in kwargs.values():
            for secret in (first.client_secret, second.client_secret):
                assert secret not in repr(value) and secret not in str(value)
    assert "cuss_secret" not in repr(received)


def params_with_plan(user: Any) -> dict[str, Any]:
    return {
        "email": user.email,
        "description": f"Site user {user.pk}",
        "metadata": {"django_user_id": str(user.pk), "plan": "gold"},
        "preferred_locales": ["fr"],
    }


def test_the_customer_parameters_function_shapes_new_customers(fake_stripe, user):
    conf = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_PARAMS": f"{__name__}.params_with_plan"}
    with override_settings(CUSTOMER_SESSIONS=conf):
        customer_id = get_or_create_customer(user)

    [customer] = fake_stripe.customers
    assert customer["id"] == customer_id
    assert customer["metadata"] == {"django_user_id": str(user.pk), "plan": "gold"}
    assert customer["description"] == f"Site user {user.pk}"
    assert customer["preferred_locales"] == ["fr"]


def test_a_site_preset_is_what_stripe_receives(fake_stripe, user):
    saved_cards_only = {
        "payment_element": {"enabled": True, "features": {"payment_method_redisplay": "enabled"}}
    }
    conf = {
        **settings.CUSTOMER_SESSIONS,
        "COMPONENT_PRESETS": {"saved_cards_only": saved_cards_only},
        "DEFAULT_COMPONENTS": "saved_cards_only",
    }
    with override_settings(CUSTOMER_SESSIONS=conf):
        session = create_customer_session(user)

    sent = fake_stripe.requests_to("POST", "/v1/customer_sessions")[-1].params["components"]
    # As form-encoded on the wire: booleans arrive as "true".
    assert sent == {
        "payment_element": {"enabled": "true", "features": {"payment_method_redisplay": "enabled"}}
    }
    assert session.components == ("payment_element",)


# --- a site's own view on the Python API ---------------------------------------------------


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
