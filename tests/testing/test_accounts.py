"""Accounts v2 (``resources/accounts.py``): create, retrieve, close, v2 errors, sessions."""

from __future__ import annotations

import json
import typing
import urllib.request

import pytest
import stripe
from stripe.params.v2.core import AccountCloseParams, AccountCreateParams, AccountRetrieveParams

from customer_sessions.testing.schema import request_schema

from .helpers import as_dict

CUSTOMER_ACCOUNT = {
    "contact_email": "ada@example.com",
    "display_name": "Ada",
    "configuration": {"customer": {}},
    "metadata": {"django_user_id": "5"},
    "include": ["configuration.customer"],
}
PRICING_TABLE = {"pricing_table": {"enabled": True}}


def test_create_and_retrieve_a_customer_configured_account(fake, client):
    created = client.v2.core.accounts.create(params=CUSTOMER_ACCOUNT)

    assert isinstance(created, stripe.v2.core.Account)
    assert created.id.startswith("acct_")
    assert created.object == "v2.core.account"
    assert created.applied_configurations == ["customer"]
    assert created.closed is False
    assert created.contact_email == "ada@example.com"
    assert as_dict(created.metadata) == {"django_user_id": "5"}
    assert created.configuration.customer is not None
    request = fake.requests[-1]
    assert request.headers["content-type"] == "application/json"
    assert request.params == CUSTOMER_ACCOUNT

    plain = client.v2.core.accounts.retrieve(created.id)
    assert plain.configuration is None  # not included unless asked for
    included = client.v2.core.accounts.retrieve(
        created.id, params={"include": ["configuration.customer"]}
    )
    assert included.configuration.customer is not None
    assert [a["id"] for a in fake.accounts] == [created.id]


def test_an_unknown_account_is_a_v2_not_found_error(fake, client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v2.core.accounts.retrieve("acct_1NoSuchAccount00")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    body = caught.value.json_body["error"]
    assert body["type"] == "invalid_request_error"
    assert "request_log_url" not in body and "doc_url" not in body  # v1's, not v2's


def test_unknown_parameters_are_refused_at_every_depth(fake, client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v2.core.accounts.create(params={"configuration": {"customer": {"colour": "x"}}})

    assert caught.value.code == "parameter_unknown"
    assert caught.value.json_body["error"]["param"] == "configuration[customer][colour]"
    assert fake.accounts == []


def test_a_key_reused_with_other_parameters_is_an_idempotency_error(fake, client):
    options: typing.Any = {"idempotency_key": "same-key"}
    first = client.v2.core.accounts.create(params=CUSTOMER_ACCOUNT, options=options)
    again = client.v2.core.accounts.create(params=CUSTOMER_ACCOUNT, options=options)
    assert again.id == first.id

    with pytest.raises(stripe.IdempotencyError):
        client.v2.core.accounts.create(params={"display_name": "Other"}, options=options)
    assert len(fake.accounts) == 1


def test_a_body_that_is_not_json_is_refused_in_v2_shape(fake):
    request = urllib.request.Request(  # noqa: S310 - the double, on 127.0.0.1
        f"{fake.url}/v2/core/accounts",
        data=b"{not json",
        headers={"Authorization": f"Bearer {fake.secret_key}", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - the double, on 127.0.0.1

    assert caught.value.code == 400
    assert json.loads(caught.value.read())["error"]["type"] == "invalid_request_error"
    assert fake.accounts == []


def test_closing_an_account(fake, client):
    account = client.v2.core.accounts.create(params=CUSTOMER_ACCOUNT)

    with pytest.raises(stripe.InvalidRequestError):  # every configuration must be named
        client.v2.core.accounts.close(account.id, params={"applied_configurations": []})
    closed = client.v2.core.accounts.close(
        account.id, params={"applied_configurations": ["customer"]}
    )

    assert closed.closed is True
    assert client.v2.core.accounts.retrieve(account.id).closed is True
    assert fake.accounts == []


def test_a_session_for_a_customer_account_names_both(fake, client):
    account = client.v2.core.accounts.create(params=CUSTOMER_ACCOUNT)

    first = client.v1.customer_sessions.create(
        params={"customer_account": account.id, "components": PRICING_TABLE}
    )
    second = client.v1.customer_sessions.create(
        params={"customer_account": account.id, "components": PRICING_TABLE}
    )

    assert first.customer_account == account.id
    assert first.customer.startswith("cus_")
    assert second.customer == first.customer  # the account's one customer
    assert fake.customers == []  # no v1 Customer was made


def test_a_session_names_a_customer_or_an_account_not_both(fake, client):
    account = fake.create_account(configuration={"customer": {}})
    customer = client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customer_sessions.create(
            params={
                "customer": customer.id,
                "customer_account": account["id"],
                "components": PRICING_TABLE,
            }
        )
    assert caught.value.param == "customer_account"


def test_a_closed_or_unknown_account_gets_no_session(fake, client):
    account = fake.create_account(configuration={"customer": {}})
    fake.close_account(account["id"])

    for account_id in (account["id"], "acct_1NoSuchAccount00"):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customer_sessions.create(
                params={"customer_account": account_id, "components": PRICING_TABLE}
            )
        assert caught.value.code == "resource_missing"
        assert caught.value.param == "customer_account"


def test_an_account_without_a_customer_configuration_gets_no_session(fake, client):
    account = fake.create_account(display_name="A recipient only")

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customer_sessions.create(
            params={"customer_account": account["id"], "components": PRICING_TABLE}
        )
    assert caught.value.param == "customer_account"


def test_an_account_lives_in_its_mode_and_connected_account(fake, client):
    live = fake.create_account(livemode=True, configuration={"customer": {}})
    elsewhere = fake.create_account(account="acct_1Connected000000", configuration={"customer": {}})

    for account in (live, elsewhere):
        with pytest.raises(stripe.InvalidRequestError):
            client.v2.core.accounts.retrieve(account["id"])


def test_seeding_refuses_what_stripe_would():
    from customer_sessions.testing import FakeStripe

    with pytest.raises(ValueError, match="unknown parameter"):
        FakeStripe().create_account(colour="red")


# --- the schema, held to the request types that ship inside stripe-python ---------------


def _properties_of(typed: typing.Any) -> dict[str, typing.Any]:
    return typing.get_type_hints(typed)


def _hold(schema: dict[str, typing.Any], typed: typing.Any, where: str) -> None:
    """Every property of ``schema`` is one of ``typed``'s (a TypedDict), recursively, and
    every enum is the type's ``Literal``."""
    hints = _properties_of(typed)
    for name, sub in schema.get("properties", {}).items():
        assert name in hints, f"{where}.{name} is not a parameter stripe-python sends"
        _hold_value(sub, hints[name], f"{where}.{name}")


def _hold_value(schema: dict[str, typing.Any], hint: typing.Any, where: str) -> None:
    while typing.get_origin(hint) in (typing.NotRequired, typing.Required):
        (hint,) = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if schema.get("type") == "object" and "properties" in schema:
        _hold(schema, hint, where)
    elif schema.get("type") == "array":
        (item,) = typing.get_args(hint)
        _hold_value(schema["items"], item, f"{where}[]")
    elif "enum" in schema:
        assert typing.get_origin(hint) is typing.Literal, where
        assert sorted(schema["enum"]) == sorted(typing.get_args(hint)), where


@pytest.mark.parametrize(
    ("operation", "typed"),
    [
        ("V2CoreAccountsCreate", AccountCreateParams),
        ("V2CoreAccountsRetrieve", AccountRetrieveParams),
        ("V2CoreAccountsClose", AccountCloseParams),
    ],
)
def test_the_v2_schemas_are_stripe_pythons_parameters(operation, typed):
    _hold(request_schema(operation), typed, operation)
