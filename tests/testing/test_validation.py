"""Parameters refused in Stripe's words (``validation.py``): over HTTP, and the rules one by one."""

from __future__ import annotations

import pytest
import stripe

from customer_sessions.testing.encoding import parse_form
from customer_sessions.testing.errors import ParamError
from customer_sessions.testing.validation import validate

from .helpers import as_dict


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
    assert as_dict(client.v1.customers.create(params={"metadata": ""}).metadata) == {}  # type: ignore[typeddict-item]


# --- the rules one by one (no HTTP) ------------------------------------------------------


def refusal(operation: str, body: str) -> tuple[str, str | None, str | None]:
    with pytest.raises(ParamError) as info:
        validate(operation, parse_form(body))
    return info.value.message, info.value.param, info.value.code


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        pytest.param(
            "PostCustomers",
            "email=&bogus=1",
            ("Received unknown parameter: bogus", "bogus", "parameter_unknown"),
            id="unknown-keys-before-the-values-of-known-ones",
        ),
        pytest.param(
            "PostCustomers",
            "zeta=1&alpha=1",
            ("Received unknown parameter: zeta", "zeta", "parameter_unknown"),
            id="the-first-unknown-key-as-sent",
        ),
        pytest.param(
            "PostCustomers",
            "balance=abc&phone=" + "x" * 30,
            ("Invalid integer: abc", "balance", "parameter_invalid_integer"),
            id="keys-in-the-order-sent",
        ),
        pytest.param(
            "PostCustomers",
            "phone=" + "9" * 30 + "&balance=abc",
            ("Invalid phone: must be at most 20 characters", "phone", None),
            id="keys-in-the-order-sent-reversed",
        ),
        pytest.param(
            "PostCustomers",
            "preferred_locales[1]=&preferred_locales[0]=" + "x" * 5001,
            (
                "Invalid preferred_locales[0]: must be at most 5000 characters",
                "preferred_locales[0]",
                None,
            ),
            id="array-items-in-index-order",
        ),
        pytest.param(
            "PostCustomerSessions",
            "customer=" + "x" * 5001,
            ("Invalid customer: must be at most 5000 characters", "customer", None),
            id="missing-keys-last",
        ),
        pytest.param(
            "PostCustomers",
            "tax_exempt[a]=b",
            ('Invalid string: {"a":"b"}', "tax_exempt", None),
            id="a-hash-where-a-choice-belongs",
        ),
        pytest.param(
            "PostCustomers",
            "email[a]=b",
            ('Invalid string: {"a":"b"}', "email", None),
            id="a-hash-where-a-string-belongs",
        ),
        pytest.param(
            "PostCustomers",
            "balance[a]=1",
            ('Invalid integer: {"a":"1"}', "balance", None),
            id="a-hash-where-an-integer-belongs",
        ),
        pytest.param(
            "PostCustomers",
            "preferred_locales=en",
            ("Invalid array: en", "preferred_locales", None),
            id="a-string-where-an-array-belongs",
        ),
        pytest.param(
            "PostCustomerSessions",
            "components=all",
            ("Invalid object: all", "components", None),
            id="a-string-where-an-object-belongs",
        ),
        pytest.param(
            "PostCustomers",
            "address[city]=Paris&address[bogus]=1",
            ("Received unknown parameter: address[bogus]", "address[bogus]", "parameter_unknown"),
            id="the-alternative-of-the-value-s-shape-answers",
        ),
        pytest.param(
            "PostCustomers",
            "address=somewhere",
            ("Invalid object: somewhere", "address", None),
            id="a-string-read-by-the-first-alternative-when-none-is-a-string",
        ),
    ],
)
def test_the_first_problem_in_stripes_order_is_answered(operation, body, expected):
    assert refusal(operation, body) == expected


def test_a_value_out_of_its_choices_is_named_so_before_its_length():
    message, param, code = refusal(
        "PostCustomers", "tax_id_data[0][type]=" + "y" * 6000 + "&tax_id_data[0][value]=1"
    )
    assert message.startswith("Invalid tax_id_data[0][type]: must be one of ad_nrt, ae_trn, ")
    assert (param, code) == ("tax_id_data[0][type]", None)


@pytest.mark.parametrize(
    ("body", "param"),
    [("preferred_locales=", "preferred_locales"), ("balance=", "balance"), ("name=", "name")],
)
def test_an_empty_string_is_refused_where_the_schema_has_no_unset(body, param):
    message, refused, code = refusal("PostCustomers", body)
    assert (refused, code) == (param, "parameter_invalid_empty")
    assert message.startswith(f"You passed an empty string for '{param}'.")


def test_leaves_are_typed_as_the_schema_says_and_unsets_kept():
    body = (
        "balance=-5&preferred_locales[]=en&preferred_locales[]=fr&metadata[a]=&metadata[b]=2"
        "&tax_exempt=&address="
    )

    assert validate("PostCustomers", parse_form(body)) == {
        "balance": -5,
        "preferred_locales": ["en", "fr"],
        "metadata": {"a": "", "b": "2"},
        "tax_exempt": "",
        "address": "",
    }
    sessions = validate(
        "PostCustomerSessions",
        parse_form(
            "customer=cus_1&components[payment_element][enabled]=true"
            "&components[payment_element][features][payment_method_redisplay_limit]=2"
            "&components[pricing_table][enabled]=false"
        ),
    )
    assert sessions["components"] == {
        "payment_element": {"enabled": True, "features": {"payment_method_redisplay_limit": 2}},
        "pricing_table": {"enabled": False},
    }
