"""Property tests (Hypothesis) of the two places user data enters: the request body and the
parameters of a new Stripe customer.

- Request body: whatever JSON a client sends, the endpoint answers 201 exactly when the body
  names nothing but a known preset, 400 with a JSON error otherwise, never 500, and a refused
  body never reaches Stripe.
- Customer parameters: for any user a Django user model allows (any username, email and
  names, up to their maximum lengths), the parameters are ones Stripe accepts (checked against
  Stripe's request schema), carry the user's primary key, and never invent an email.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from customer_sessions.api.serializers import CustomerSessionRequestSerializer
from customer_sessions.conf import DEFAULTS
from customer_sessions.defaults import customer_params
from customer_sessions.testing import FakeStripe

from ..conftest import session_creates
from ..factories import UserFactory

PRESETS = sorted(DEFAULTS["COMPONENT_PRESETS"])
User = get_user_model()
STRIPE = FakeStripe()  # not started: only its request validation is used

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
component_values = (
    st.sampled_from(PRESETS)
    | st.sampled_from(PRESETS).map(lambda p: f" {p}\t")
    | st.sampled_from(PRESETS).map(str.upper)
    | json_values
)
#: Bodies: mostly objects, often with a "components" key, sometimes with other keys.
bodies = (
    st.fixed_dictionaries({}, optional={"components": component_values})
    | st.fixed_dictionaries(
        {"components": component_values},
        optional={"customer": st.just("cus_someone_else"), "extra": json_values},
    )
    | json_values
)


def acceptable(body: Any) -> bool:
    """The documented rule: nothing but an optional preset name (surrounding blanks trimmed)."""
    if not isinstance(body, dict) or set(body) - {"components"}:
        return False
    if "components" not in body:
        return True
    value = body["components"]
    return isinstance(value, str) and value.strip() in PRESETS


@given(body=bodies)
def test_request_serializer_accepts_exactly_the_documented_bodies(body):
    serializer = CustomerSessionRequestSerializer(data=body)
    assert serializer.is_valid() == acceptable(body), serializer.errors
    if acceptable(body):
        assert set(serializer.validated_data) <= {"components"}


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_endpoint_answers_201_or_a_json_400_and_never_500(fake_stripe, settings_override, body):
    user = UserFactory(password=None)
    client = Client()
    client.force_login(user)
    before = session_creates(fake_stripe)

    response = client.post(
        "/api/customer-session/", data=json.dumps(body), content_type="application/json"
    )

    if acceptable(body):
        assert response.status_code == 201, response.content
        assert session_creates(fake_stripe) == before + 1
    else:
        assert response.status_code == 400, response.content
        assert response.json()["code"] in {"invalid", "parse_error"}
        assert session_creates(fake_stripe) == before


@pytest.fixture
def settings_override(settings):  # type: ignore[no-untyped-def]
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": None}


def field_text(name: str) -> st.SearchStrategy[str]:
    """Any text the user model's field allows: short, or near its max_length."""
    max_length = User._meta.get_field(name).max_length
    chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
    return st.text(chars, max_size=20) | st.text(
        chars, min_size=max_length - 3, max_size=max_length
    )


@given(
    pk=st.integers(min_value=1, max_value=2**63 - 1),
    username=field_text("username").filter(str.strip),
    email=st.just("") | st.emails().filter(lambda e: len(e) <= 254),
    first_name=field_text("first_name"),
    last_name=field_text("last_name"),
)
@example(pk=1, username="ada", email="", first_name="A" * 150, last_name="L" * 150)
def test_customer_params_are_what_stripe_accepts_for_any_user(
    pk, username, email, first_name, last_name
):
    user = User(pk=pk, username=username, email=email, first_name=first_name, last_name=last_name)

    params = customer_params(user)

    # Stripe's own request schema accepts them: the double validates what it is given
    # against it, as stripe-python would send it (raises ValueError otherwise).
    STRIPE.create_customer(**params)
    assert params["metadata"] == {"django_user_id": str(pk)}
    assert params.get("email") == (email or None)
    full_name = f"{first_name} {last_name}".strip() or username.strip()
    # Stripe takes at most 256 characters: a longer name is cut there, never refused.
    assert params["name"] == full_name[:256].rstrip()
