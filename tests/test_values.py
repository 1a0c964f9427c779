"""The values the app hands out keep their secret to themselves."""

from __future__ import annotations

import copy
import pickle

import pytest

from customer_sessions.values import ClientSecret, CustomerSession

SECRET = "cuss_secret_" + "S3cr3tRestOfTheSecretThatMustNotShow0123456789"


def session(secret: str = SECRET) -> CustomerSession:
    return CustomerSession(
        client_secret=secret,
        expires_at=1_764_100_000,
        customer="cus_A",
        livemode=False,
        components={"payment_element": {"enabled": True}, "pricing_table": {"enabled": False}},
        created=1_764_098_200,
    )


def test_a_client_secret_is_a_str_whose_repr_shows_only_its_kind():
    secret = ClientSecret(SECRET)
    assert secret == SECRET and isinstance(secret, str)
    assert repr(secret) == "ClientSecret('cuss_secret_…')"
    assert SECRET[12:] not in repr(secret)
    assert SECRET[12:] not in f"{secret!r}"
    assert SECRET[12:] not in repr([secret, {"k": secret}])


@pytest.mark.parametrize("secret", [SECRET, ClientSecret(SECRET)], ids=["str", "ClientSecret"])
def test_a_session_never_shows_its_secret_even_when_it_holds_a_plain_str(secret):
    value = session(secret)
    for text in (repr(value), str(value), f"{value}", repr([value])):
        assert SECRET[12:] not in text
        assert "client_secret" not in text
    assert "cus_A" in repr(value)  # the rest is there to debug with


def test_a_session_refuses_to_be_pickled_and_is_not_copied():
    value = session(ClientSecret(SECRET))
    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(value)
    assert copy.copy(value) is value
    assert copy.deepcopy(value) is value
    with pytest.raises(AttributeError):
        value.client_secret = "x"  # type: ignore[misc]


def test_as_json_is_what_a_page_needs():
    assert session().as_json() == {"client_secret": SECRET, "expires_at": 1_764_100_000}


def test_a_session_names_the_components_it_enables():
    assert session().enabled_components == ("payment_element",)
