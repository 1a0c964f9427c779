"""Stripe's form encoding (``encoding.py``): brackets, arrays, query strings."""

from __future__ import annotations

import json

from .helpers import raw


def test_bracket_arrays_and_query_strings(fake):
    status, _, body = raw(
        fake,
        "POST",
        "/v1/customers",
        "preferred_locales[]=en&preferred_locales[]=fr&expand[0]=tax",
        {"Authorization": f"Bearer {fake.secret_key}"},
    )
    assert status == 200
    assert json.loads(body)["preferred_locales"] == ["en", "fr"]
    customer_id = json.loads(body)["id"]
    status, _, body = raw(
        fake,
        "GET",
        f"/v1/customers/{customer_id}?expand[]=tax&bogus=1",
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    assert status == 400
    assert json.loads(body)["error"]["param"] == "bogus"
    assert fake.requests[-1].params == {"expand": ["tax"], "bogus": "1"}
