"""Customers (``resources/customers.py``): create, retrieve, update, delete, as Stripe answers."""

from __future__ import annotations

import pytest
import stripe

from .helpers import as_dict


def test_create_retrieve_update_delete_customer(fake, client):
    created = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"django_user_id": "5"}}
    )
    assert created.id.startswith("cus_") and len(created.id) == 18
    assert created.object == "customer"
    assert created.livemode is False
    assert as_dict(created.metadata) == {"django_user_id": "5"}
    for required in ("created", "id", "livemode", "object", "description", "phone", "address"):
        assert required in created

    fetched = client.v1.customers.retrieve(created.id)
    assert as_dict(fetched) == as_dict(created)

    updated = client.v1.customers.update(
        created.id, params={"email": "lovelace@example.com", "metadata": {"django_user_id": ""}}
    )
    assert updated.email == "lovelace@example.com"
    assert as_dict(updated.metadata) == {}

    deleted = client.v1.customers.delete(created.id)
    assert as_dict(deleted) == {"id": created.id, "object": "customer", "deleted": True}
    assert as_dict(client.v1.customers.retrieve(created.id)) == as_dict(deleted)
    assert fake.customers == []


def test_unknown_customer_is_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve("cus_doesnotexist00")
    error = info.value
    assert error.http_status == 404
    assert error.code == "resource_missing"
    assert error.param == "id"
    assert error.user_message == "No such customer: 'cus_doesnotexist00'"
    assert error.error is not None and error.error.type == "invalid_request_error"
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/resource-missing"
    assert error.error.request_log_url.startswith("https://dashboard.stripe.com/test/logs/req_")
    assert error.request_id is not None and error.request_id.startswith("req_")
