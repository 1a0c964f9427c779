"""Routing (``routing.py``): Stripe's 404 for a URL it does not serve."""

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
