"""The endpoint's bodies: what it answers and which request bodies it accepts.

The views validate an empty request body and write the 201 body without building a DRF
serializer on every session; these tests hold them to what the serializers say.
"""

from __future__ import annotations

import pytest

from customer_sessions.api.serializers import (
    CustomerSessionSerializer,
    requested_components,
    response_body,
)
from customer_sessions.services import create_customer_session

URL = "/api/customer-session/"


def test_response_body_is_what_the_documented_serializer_gives(fake_stripe, user):
    session = create_customer_session(user)

    assert response_body(session) == CustomerSessionSerializer(session).data


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("", "application/json"),
        ("{}", "application/json"),
        ("", "application/x-www-form-urlencoded"),
    ],
)
def test_empty_bodies_get_the_default_preset(fake_stripe, signed_in, raw, content_type):
    response = signed_in.post(URL, data=raw, content_type=content_type)

    assert response.status_code == 201
    (sent,) = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert sent.params["components"]["payment_element"]["enabled"] in (True, "true")


@pytest.mark.parametrize("raw", ["[]", "null", '""', "0"])
def test_empty_values_that_are_not_an_object_are_refused(fake_stripe, signed_in, raw):
    response = signed_in.post(URL, data=raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert fake_stripe.requests == []


def test_a_named_preset_is_validated_by_the_serializer(settings):
    presets = {"payment_element": {"payment_element": {"enabled": True}}, "pricing": {}}
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "COMPONENT_PRESETS": presets}

    assert requested_components({}) is None
    assert requested_components({"components": "pricing"}) == "pricing"
