"""The mapping's models: the idempotency keys a user's customers are made with."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import override_settings

from customer_sessions.models import KEY_PREFIX, first_idempotency_key, next_idempotency_key


def someone(pk: object = 7, username: str = "ada") -> SimpleNamespace:
    return SimpleNamespace(pk=pk, get_username=lambda: username)


def test_the_first_key_is_the_same_for_every_attempt():
    assert first_idempotency_key(someone(), "test", "") == first_idempotency_key(
        someone(), "test", ""
    )
    assert first_idempotency_key(someone(), "test", "").startswith(KEY_PREFIX)
    assert len(first_idempotency_key(someone(), "test", "")) <= 255  # Stripe's limit


@pytest.mark.parametrize(
    "other",
    [
        (someone(pk=8), "test", ""),
        (someone(username="bob"), "test", ""),  # a primary key reused by somebody else
        (someone(), "live", ""),
        (someone(), "test", "acct_1Shop"),
    ],
    ids=["another-pk", "another-username", "another-mode", "another-account"],
)
def test_any_other_user_mode_or_account_gets_another_key(other):
    assert first_idempotency_key(*other) != first_idempotency_key(someone(), "test", "")


def test_each_site_derives_its_own_keys():
    key = first_idempotency_key(someone(), "test", "")
    with override_settings(SECRET_KEY="another-site-entirely"):
        assert first_idempotency_key(someone(), "test", "") != key


def test_the_next_key_follows_from_the_last_and_never_repeats_it():
    first = first_idempotency_key(someone(), "test", "")
    second = next_idempotency_key(first)
    assert second == next_idempotency_key(first)
    assert len({first, second, next_idempotency_key(second)}) == 3
