"""Stripe's form encoding (``encoding.py``): brackets, arrays, query strings."""

from __future__ import annotations

import json

import pytest

from customer_sessions.testing.encoding import encode, normalize, parse_form
from customer_sessions.testing.errors import ParamError

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


def test_brackets_nest_and_empty_brackets_append():
    assert parse_form("a[b][c]=1&a[b][d]=2&list[]=x&list[]=y&e=%C3%A9+%26&blank=") == {
        "a": {"b": {"c": "1", "d": "2"}},
        "list": {"0": "x", "1": "y"},
        "e": "é &",
        "blank": "",
    }


@pytest.mark.parametrize(
    ("text", "param"),
    [("metadata=1&metadata[a]=2", "metadata"), ("a[b][c]=1&a[b]=2", "a[b]")],
)
def test_a_key_both_a_value_and_a_hash_is_an_invalid_hash(text, param):
    with pytest.raises(ParamError) as info:
        parse_form(text)
    assert (info.value.message, info.value.param) == (f"Invalid hash: {param}", param)


def test_an_invalid_hash_is_answered_400_and_recorded(fake):
    status, _, body = raw(
        fake,
        "POST",
        "/v1/customers",
        "metadata=1&metadata[a]=2",
        {"Authorization": f"Bearer {fake.secret_key}"},
    )

    assert status == 400
    assert json.loads(body)["error"]["message"] == "Invalid hash: metadata"
    assert [(r.status, r.params) for r in fake.requests] == [(400, {})]
    assert fake.customers == []


def test_encode_is_stripe_pythons_encoding_and_parses_back():
    params = {"a": {"b": [1, True]}, "skip": None, "c": "x y"}

    assert encode(params) == "a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=true&c=x+y"
    assert normalize(parse_form(encode(params))) == {"a": {"b": ["1", "true"]}, "c": "x y"}
