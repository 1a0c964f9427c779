"""The request schemas (``schema.py``): what the validation relies on holds for every one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft4Validator

from customer_sessions.testing.schema import object_schema, operations, request_schema
from customer_sessions.testing.validation import KEYWORDS, closed


def nodes(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from nodes(sub)
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from nodes(schema[key])
    for alternative in schema.get("anyOf", []):
        yield from nodes(alternative)


def test_the_operations_with_a_schema():
    assert operations() == [
        "DeleteCustomersCustomer",
        "GetAccount",
        "GetCustomersCustomer",
        "GetPaymentIntentsIntent",
        "GetSetupIntentsIntent",
        "PostCustomerSessions",
        "PostCustomers",
        "PostCustomersCustomer",
        "PostPaymentIntents",
        "PostSetupIntents",
        "V2CoreAccountsClose",
        "V2CoreAccountsCreate",
        "V2CoreAccountsRetrieve",
    ]


@pytest.mark.parametrize("operation", operations())
def test_each_schema_is_draft_4_in_the_keywords_the_errors_are_worded_for(operation):
    schema = request_schema(operation)

    Draft4Validator.check_schema(schema)
    used = {keyword for node in nodes(schema) for keyword in node}
    assert used <= KEYWORDS, used - KEYWORDS


@pytest.mark.parametrize("operation", operations())
def test_alternatives_differ_in_shape_but_for_the_empty_string_unset(operation):
    """What ``validation.choose`` relies on to read a value by one alternative only."""
    for node in nodes(request_schema(operation)):
        alternatives = node.get("anyOf", [])
        shapes = [
            alt.get("type", "string") if alt.get("type") in ("object", "array") else "string"
            for alt in alternatives
            if alt.get("enum") != [""]
        ]
        assert len(shapes) == len(set(shapes)), alternatives


@pytest.mark.parametrize("operation", operations())
def test_closed_refuses_unknown_keys_at_every_depth_but_in_maps(operation):
    for node in nodes(closed(request_schema(operation))):
        if node.get("type") == "object":
            extra = node["additionalProperties"]
            assert extra is False or extra == {"type": "string"}, node


def test_the_response_schema_of_a_session_lists_its_components():
    components = object_schema("customer_session")["properties"]["components"]["properties"]
    assert {"payment_element", "pricing_table", "buy_button", "customer_portal"} <= set(components)
