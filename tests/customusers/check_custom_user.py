"""Run by tests/reliability/test_custom_user_models.py under each custom user model's settings.

Everything a site does with the app, with a user model that is not Django's: the Python
API, the endpoint and the tag, and what the Stripe customer is made with.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.template import engines
from django.test import Client, RequestFactory

from customer_sessions.models import StripeCustomer
from customer_sessions.services import create_customer_session

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def user():  # type: ignore[no-untyped-def]
    return User.objects.create_user(**{User.USERNAME_FIELD: "ada", "password": None})


def test_python_api_makes_one_customer_with_what_the_model_has(fake_stripe, user):
    first = create_customer_session(user)
    second = create_customer_session(user)

    assert first.customer == second.customer
    assert StripeCustomer.objects.get(user=user).customer_id == first.customer
    (customer,) = fake_stripe.customers
    assert customer["metadata"] == {"django_user_id": str(user.pk)}
    assert customer["name"] == "ada"
    assert customer.get("email") is None  # nothing invented when the model has no email


def test_endpoint_and_tag(fake_stripe, user):
    client = Client()
    client.force_login(user)
    response = client.post("/api/customer-session/")
    assert response.status_code == 201, response.content

    request = RequestFactory().get("/")
    request.user = user
    html = engines["django"].from_string("{% load customer_sessions %}{% customer_session %}")
    assert 'id="customer-session"' in html.render(request=request)
    assert len(fake_stripe.customers) == 1


def test_the_model_is_the_one_under_test(settings):
    if settings.AUTH_USER_MODEL == "customusers.UUIDUser":
        assert isinstance(User._meta.pk.get_default(), uuid.UUID)
    else:
        assert settings.AUTH_USER_MODEL == "customusers.HandleUser"
        assert not hasattr(User, "email")
