"""Routing (``routing.py``): ids in the path, and Stripe's 404 for a URL it does not serve."""

from __future__ import annotations

import json

from .helpers import raw


def test_unknown_path(fake):
    status, headers, body = raw(
        fake, "GET", "/v1/foo", headers={"Authorization": f"Bearer {fake.secret_key}"}
    )
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert headers["request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/foo).")


def test_ids_in_the_path_are_unquoted_and_slashes_collapsed(fake, client):
    customer = client.v1.customers.create()
    quoted = customer.id.replace("_", "%5F")
    key = {"Authorization": f"Bearer {fake.secret_key}"}

    status, _, body = raw(fake, "GET", f"/v1//customers/{quoted}", headers=key)

    assert status == 200
    assert json.loads(body)["id"] == customer.id
    assert fake.requests[-1].path == f"/v1/customers/{quoted}"


def test_a_method_a_path_does_not_serve_is_unrecognized(fake):
    key = {"Authorization": f"Bearer {fake.secret_key}"}

    status, _, body = raw(fake, "PUT", "/v1/customers", headers=key)

    assert status == 404
    assert json.loads(body)["error"]["message"].startswith(
        "Unrecognized request URL (PUT: /v1/customers)."
    )
