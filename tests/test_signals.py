"""The signals the app sends: who, which customer, mode and account; never the secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from customer_sessions import signals
from customer_sessions.services import create_customer_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def received() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every signal the app sends during the test, with its arguments."""
    log: list[tuple[str, dict[str, Any]]] = []
    receivers = {}
    for name in ("customer_created", "customer_replaced", "session_created"):

        def receiver(name: str = name, **kwargs: Any) -> None:
            log.append((name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield log
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_signals_name_user_customer_mode_and_account_and_never_the_secret(
    fake_stripe, user, received
):
    first = create_customer_session(user, "pricing_table")
    fake_stripe.delete_customer(first.customer)
    second = create_customer_session(user)

    names = [name for name, _ in received]
    assert names == [
        "customer_created",
        "session_created",
        "customer_replaced",
        "customer_created",
        "session_created",
    ]
    created, session, replaced = received[0][1], received[1][1], received[2][1]
    assert {k: created[k] for k in ("user", "customer_id", "mode", "account")} == {
        "user": user,
        "customer_id": first.customer,
        "mode": "test",
        "account": "",
    }
    assert set(session) == {
        "signal",
        "sender",
        "user",
        "customer_id",
        "mode",
        "account",
        "components",
        "expires_at",
    }
    assert (session["customer_id"], session["components"]) == (first.customer, ("pricing_table",))
    assert session["expires_at"] == first.expires_at
    assert (replaced["old_customer_id"], replaced["reason"]) == (first.customer, "deleted")
    # No argument of any signal holds a client secret, however it is printed.
    for _, kwargs in received:
        for value in kwargs.values():
            for secret in (first.client_secret, second.client_secret):
                assert secret not in repr(value) and secret not in str(value)
    assert "cuss_secret" not in repr(received)
