"""PaymentIntents and SetupIntents (``resources/intents.py``)."""

from __future__ import annotations

import pytest
import stripe


def test_payment_and_setup_intents(client):
    customer = client.v1.customers.create()
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1099,
            "currency": "eur",
            "customer": customer.id,
            "automatic_payment_methods": {"enabled": True},
            "setup_future_usage": "off_session",
        }
    )
    assert intent.id.startswith("pi_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.status == "requires_payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).amount == 1099
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    assert setup.id.startswith("seti_") and setup.client_secret.startswith(f"{setup.id}_secret_")
    assert client.v1.setup_intents.retrieve(setup.id).customer == customer.id

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 0, "currency": "eur"})
    assert (info.value.code, info.value.param) == ("parameter_invalid_integer", "amount")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "euro"})
    assert info.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "eur", "tip": 1})  # type: ignore[typeddict-unknown-key]
    assert (info.value.code, info.value.param) == ("parameter_unknown", "tip")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.setup_intents.create(params={"customer": "cus_missing0000000"})
    assert (info.value.code, info.value.param) == ("resource_missing", "customer")
