"""Parameters refused in Stripe's words (``validation.py``): over HTTP, and the rules one by one."""

from __future__ import annotations

import pytest
import stripe


def test_unknown_parameter(client):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={
                "customer": customer.id,
                "components": {"payment_element": {"enabled": True, "foo": "bar"}},
            }
        )
    assert info.value.http_status == 400
    assert info.value.code == "parameter_unknown"
    assert info.value.param == "components[payment_element][foo]"
    assert info.value.user_message == "Received unknown parameter: components[payment_element][foo]"
    assert info.value.error.type == "invalid_request_error"


def test_missing_components(client):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(params={"customer": customer.id})  # type: ignore[typeddict-item]
    assert (info.value.code, info.value.param) == ("parameter_missing", "components")
    assert info.value.user_message == "Missing required param: components."


@pytest.mark.parametrize(
    ("components", "param", "message", "code"),
    [
        (
            {"payment_element": {"enabled": True, "features": {"payment_method_save": "yes"}}},
            "components[payment_element][features][payment_method_save]",
            "Invalid components[payment_element][features][payment_method_save]: "
            "must be one of disabled or enabled",
            None,
        ),
        (
            {"payment_element": {"enabled": "yes"}},
            "components[payment_element][enabled]",
            "Invalid boolean: yes",
            None,
        ),
        (
            {
                "payment_element": {
                    "enabled": True,
                    "features": {"payment_method_redisplay_limit": "abc"},
                }
            },
            "components[payment_element][features][payment_method_redisplay_limit]",
            "Invalid integer: abc",
            "parameter_invalid_integer",
        ),
    ],
)
def test_invalid_values(client, components, param, message, code):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": components}
        )
    assert (info.value.http_status, info.value.param) == (400, param)
    assert info.value.user_message == message
    assert info.value.code == code


def test_empty_string_where_not_allowed(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.create(params={"email": ""})
    assert (info.value.code, info.value.param) == ("parameter_invalid_empty", "email")
    assert info.value.user_message.startswith("You passed an empty string for 'email'.")
    # …while metadata="" is Stripe's way of unsetting it.
    assert client.v1.customers.create(params={"metadata": ""}).metadata.to_dict() == {}  # type: ignore[typeddict-item]
