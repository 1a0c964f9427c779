"""The pytest plugin (``pytest_plugin.py``): the ``fake_stripe`` fixture."""

from __future__ import annotations

from .helpers import client_for


def test_plugin_fixture(fake_stripe):
    assert fake_stripe.requests == []
    customer = client_for(fake_stripe).v1.customers.create()
    assert fake_stripe.customers[0]["id"] == customer.id
