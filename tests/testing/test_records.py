"""What tests read back (``records.py``): the requests recorded, stored objects."""

from __future__ import annotations

import time

from .helpers import as_dict, client_for, raw


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


def test_a_record_knows_its_mode_from_its_key(fake):
    client_for(fake, fake.live_secret_key).v1.customers.create()
    raw(fake, "POST", "/v1/customers")

    live, keyless = fake.requests

    assert (live.livemode, live.status) == (True, 200)
    assert (keyless.livemode, keyless.status, keyless.api_key) == (None, 401, None)


def test_a_stored_object_read_is_a_copy(fake, client):
    customer = client.v1.customers.create(params={"metadata": {"k": "v"}})

    fake.customers[0]["metadata"]["k"] = "changed"

    assert fake.customers[0]["metadata"] == {"k": "v"}
    assert as_dict(client.v1.customers.retrieve(customer.id).metadata) == {"k": "v"}
