"""Regenerate ``customer_sessions/testing/stripe_schema.json`` from Stripe's OpenAPI extracts.

Provenance
----------
The input is the set of extracts in ``/work/shared/stripe-openapi`` (or the directory given as
the first argument): excerpts of ``openapi/spec3.json`` from github.com/stripe/openapi, each
carrying a ``_source`` key naming the commit and API version it was taken from. This script
copies *structure only* out of them -- parameter and property names, ``type``, ``enum``,
``required``, ``additionalProperties``, ``anyOf``, ``items``, ``maxLength``, ``nullable`` and
``format`` -- and drops every ``description``, ``summary`` and ``title`` (the prose). ``$ref``
pointers inside ``customer_session`` are resolved against the extract so the double needs no
resolver; the ``customer`` object keeps its top-level property list only.

Written out:

* ``requests``: the form-encoded request bodies (and query parameters) of
  ``PostCustomers``, ``PostCustomerSessions``, ``GetCustomersCustomer`` and
  ``DeleteCustomersCustomer``.
* ``objects``: ``customer``, ``deleted_customer``, ``customer_session`` (resolved) and
  ``api_errors``.

Additions, each marked with ``"x-addition"`` in the output so they cannot be mistaken for data
from the extract:

* ``PostCustomerSessions.components`` gains ``active_entitlements`` and ``customer_portal``
  (each ``{enabled: boolean}``, ``enabled`` required), and the ``customer_session`` response's
  ``components`` gains the same two: stripe-python 16.1.0 pins API version
  ``2026-10-28.endive``, newer than the extract, and sends them.
* ``PostCustomersCustomer`` (update a customer) is not in the extracts. It is derived from
  ``PostCustomers``: the create-only parameters ``payment_method``, ``tax_id_data`` and
  ``test_clock`` are removed and ``default_source`` (a string) is added.

Usage::

    python tools/extract_stripe_schema.py [SOURCE_DIR] [--check]

``--check`` exits 1 when the committed JSON differs from what the extracts produce.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("/work/shared/stripe-openapi")
OUTPUT = ROOT / "customer_sessions" / "testing" / "stripe_schema.json"

#: Schema keywords that carry structure; everything else (prose, vendor extensions) is dropped.
KEEP = {
    "type",
    "enum",
    "required",
    "additionalProperties",
    "anyOf",
    "items",
    "maxLength",
    "nullable",
    "format",
    "$ref",
}

FORM = "application/x-www-form-urlencoded"
ADDITION = "stripe-python 16.1.0 (API 2026-10-28.endive) sends this; newer than the extract"


def structure(node: Any) -> Any:
    """``node`` with prose removed: only the keywords in :data:`KEEP` and ``properties``."""
    if isinstance(node, list):
        return [structure(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out["properties"] = {name: structure(sub) for name, sub in value.items()}
        elif key in KEEP:
            out[key] = value if key in {"enum", "required"} else structure(value)
    return out


def resolve(node: Any, schemas: dict[str, Any]) -> Any:
    """Inline every ``$ref`` that points at a schema in ``schemas``."""
    if isinstance(node, list):
        return [resolve(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in schemas and name != "customer":
            return resolve(schemas[name], schemas)
        return {"$ref": ref}
    return {key: resolve(value, schemas) for key, value in node.items()}


def load(source: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((source / name).read_text())
    return data


def form_body(operation: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = structure(operation["requestBody"]["content"][FORM]["schema"])
    return schema


def query_schema(operation: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        properties[parameter["name"]] = structure(parameter["schema"])
        if parameter.get("required"):
            required.append(parameter["name"])
    schema: dict[str, Any] = {
        "additionalProperties": False,
        "properties": properties,
        "type": "object",
    }
    if required:
        schema["required"] = required
    return schema


def enabled_only() -> dict[str, Any]:
    return {
        "properties": {"enabled": {"type": "boolean"}},
        "required": ["enabled"],
        "type": "object",
        "x-addition": ADDITION,
    }


def build(source: Path) -> dict[str, Any]:
    sessions = load(source, "post_customer_sessions.json")
    customers = load(source, "post_customers.json")
    customer_paths = load(source, "get_customer.json")
    customer_schemas = load(source, "customer.schema.json")
    session_schemas = load(source, "customer_session.schema.json")
    errors = load(source, "error.schema.json")

    post_sessions = form_body(sessions["paths"]["/v1/customer_sessions"]["post"])
    components = post_sessions["properties"]["components"]["properties"]
    components["active_entitlements"] = enabled_only()
    components["customer_portal"] = enabled_only()

    post_customers = form_body(customers["paths"]["/v1/customers"]["post"])
    update = copy.deepcopy(post_customers)
    for create_only in ("payment_method", "tax_id_data", "test_clock"):
        update["properties"].pop(create_only)
    update["properties"]["default_source"] = {"maxLength": 5000, "type": "string"}
    update["x-addition"] = (
        "derived from PostCustomers: create-only payment_method, tax_id_data and test_clock "
        "removed, default_source added"
    )

    item = customer_paths["paths"]["/v1/customers/{customer}"]
    schemas = {
        **customer_schemas["components"]["schemas"],
        **session_schemas["components"]["schemas"],
    }
    customer_session = structure(resolve(schemas["customer_session"], schemas))
    resource_components = customer_session["properties"]["components"]
    for name in ("active_entitlements", "customer_portal"):
        resource_components["properties"][name] = {
            "properties": {"enabled": {"type": "boolean"}},
            "required": ["enabled"],
            "type": "object",
            "x-addition": ADDITION,
        }

    first = sessions["_source"]
    return {
        "_source": {
            "repo": first["repo"],
            "file": first["file"],
            "commit": first["commit"],
            "info.version": first["info.version"],
            "generated_by": "tools/extract_stripe_schema.py",
            "note": "structure only (names, types, enums, required lists); no description prose",
        },
        "requests": {
            "PostCustomers": post_customers,
            "PostCustomersCustomer": update,
            "GetCustomersCustomer": query_schema(item["get"]),
            "DeleteCustomersCustomer": form_body(item["delete"]),
            "PostCustomerSessions": post_sessions,
        },
        "objects": {
            "customer": structure(schemas["customer"]),
            "deleted_customer": structure(schemas["deleted_customer"]),
            "customer_session": customer_session,
            "api_errors": structure(errors["components"]["schemas"]["api_errors"]),
        },
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    text = render(build(args.source))
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
