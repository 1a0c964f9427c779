"""What tests read back (``records.py``): the requests recorded."""

from __future__ import annotations

import time


def test_recorded_requests(fake, client):
    customer = client.v1.customers.create(
        params={"metadata": {"django_user_id": "5"}},
        options={"stripe_account": "acct_1", "idempotency_key": "ik"},
    )
    record = fake.requests[0]
    assert (record.method, record.path, record.status, record.replayed) == (
        "POST",
        "/v1/customers",
        200,
        False,
    )
    assert record.params == {"metadata": {"django_user_id": "5"}}
    assert record.api_key == fake.secret_key
    assert record.stripe_account == "acct_1"
    assert record.idempotency_key == "ik"
    assert record.headers["idempotency-key"] == "ik"
    assert record.response["id"] == customer.id
    assert record.time <= time.time()
    assert fake.requests_to("post", "/v1/cust") == [record]
    assert fake.requests_to("GET") == []
