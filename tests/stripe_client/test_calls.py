"""Every request the app sends to Stripe goes through its own client layer.

Whatever the surface (the Python API sync and async, the endpoint, the tag, the commands,
the admin's verify, the deletion of a user's customers), each request the Stripe double
received came from a ``StripeClient`` of the app: its transport (``httplib`` in Stripe's
client user agent), the app's name (``stripe.set_app_info``) and the configured API
version. A call to Stripe made any other way (stripe-python's global API, a client of its
own) would show another transport.
"""

from __future__ import annotations

import json

import pytest
import stripe
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, RequestFactory

from customer_sessions.middleware import CustomerSessionMiddleware
from customer_sessions.models import StripeCustomer
from customer_sessions.services import (
    acreate_customer_session,
    create_customer_session,
    get_or_create_customer,
    verify_customer,
)
from customer_sessions.stripe_client.transports import Transport

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def every_surface(fake_stripe, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CUSTOMER_SESSIONS = {
        **settings.CUSTOMER_SESSIONS,
        "DELETE_CUSTOMERS_WITH_USER": True,
    }
    user = UserFactory()
    create_customer_session(user)
    async_to_sync(acreate_customer_session)(user)
    client = Client()
    client.force_login(user)
    assert client.post("/api/customer-session/").status_code == 201
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load customer_sessions %}{% customer_session %}")
    CustomerSessionMiddleware(
        lambda r: __import__("django.http").http.HttpResponse(
            template.render(Context({"request": r}))
        )
    )(request)

    verify_customer(StripeCustomer.objects.get(user=user))
    UserFactory()  # one more user for the backfill to map
    call_command("customer_sessions_backfill", "--rate", "1000", "--workers", "1")
    other = UserFactory()
    fake_stripe.delete_customer(get_or_create_customer(other))
    create_customer_session(other)
    UserFactory().delete()
    user.delete()


def test_every_request_to_stripe_came_through_the_apps_clients(fake_stripe, settings):
    every_surface(fake_stripe, settings)

    requests = fake_stripe.requests
    kinds = {(r.method, "/".join(r.path.split("/")[:3])) for r in requests}
    assert kinds == {
        ("POST", "/v1/customers"),
        ("POST", "/v1/customer_sessions"),
        ("GET", "/v1/customers"),
        ("DELETE", "/v1/customers"),
    }
    for recorded in requests:
        agent = json.loads(recorded.headers["x-stripe-client-user-agent"])
        assert agent["httplib"] == Transport.name, recorded.path
        assert agent["application"]["name"] == "django-customer-sessions", recorded.path
        assert recorded.headers["stripe-version"] == stripe.api_version, recorded.path
