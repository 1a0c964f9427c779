"""Customer Sessions (``resources/customer_sessions.py``): components echoed, customer checked."""

from __future__ import annotations

import pytest
import stripe

from .helpers import PAYMENT_ELEMENT, as_dict


def test_customer_session_echoes_every_component(fake, client):
    customer = client.v1.customers.create()
    first = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": PAYMENT_ELEMENT}
    )
    second = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": {"pricing_table": {"enabled": True}}}
    )
    assert first.object == "customer_session"
    assert first.client_secret.startswith("cuss_secret_")
    assert len(first.client_secret) >= len("cuss_secret_") + 40
    assert first.client_secret != second.client_secret
    assert first.expires_at == first.created + 1800
    assert first.customer == customer.id and first.livemode is False
    components = as_dict(first.components)
    assert set(components) == {
        "buy_button",
        "customer_sheet",
        "mobile_payment_element",
        "payment_element",
        "pricing_table",
        "active_entitlements",
        "customer_portal",
    }
    assert components["pricing_table"] == {"enabled": False}
    assert components["customer_sheet"] == {"enabled": False, "features": None}
    assert components["payment_element"]["enabled"] is True
    assert components["payment_element"]["features"]["payment_method_save"] == "enabled"
    assert second.components.pricing_table.enabled is True
    assert [s["client_secret"] for s in fake.customer_sessions] == [
        first.client_secret,
        second.client_secret,
    ]
    assert fake.requests[1].params["components"]["payment_element"]["features"] == {
        "payment_method_save": "enabled",
        "payment_method_remove": "enabled",
    }


def test_newer_components_are_accepted(client):
    customer = client.v1.customers.create()
    session = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": {"customer_portal": {"enabled": True}}}
    )
    assert session.components.customer_portal.enabled is True


@pytest.mark.parametrize("deleted", [False, True])
def test_session_for_missing_customer(fake, client, deleted):
    if deleted:
        customer_id = client.v1.customers.create().id
        client.v1.customers.delete(customer_id)
    else:
        customer_id = "cus_nobodyhere123"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer_id, "components": PAYMENT_ELEMENT}
        )
    assert info.value.http_status == 400
    assert info.value.code == "resource_missing"
    assert info.value.param == "customer"
    assert info.value.user_message == f"No such customer: '{customer_id}'"
    assert fake.customer_sessions == []


def test_no_component_enabled(client):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": {"buy_button": {"enabled": False}}}
        )
    assert info.value.http_status == 400
    assert info.value.param == "components"
