"""Request parameters checked against Stripe's request schemas, refused in Stripe's words.

Three steps, and only the middle one is a library's:

1. **Coercion** (here): a form body's leaves are all strings. The schema says which are
   integers, booleans or arrays, and which alternative of an ``anyOf`` (object, array,
   string, or Stripe's empty-string "unset") a value is read by. An empty string where
   the schema has no "unset" becomes ``None``, which the check then refuses.
2. **The check** is jsonschema's (Draft 4, the draft OpenAPI 3.0's Schema Object is
   closest to), on the coerced value, against the schema *closed*:
   ``additionalProperties: false`` on every object that sets none, because Stripe refuses
   unknown parameters at every depth though its OpenAPI says so only at the top.
   ``format`` is not asserted: Stripe's (``unix-time``, ``currency``) are its own, in no
   JSON Schema draft.
   (openapi-core was tried first: its form decoder reads ``deepObject`` one level deep and
   refuses Stripe's own ``encoding`` block, so it cannot read ``a[b][c]=x`` at all.)
3. **Translation** (here): of jsonschema's errors, the one Stripe answers is the first in
   the order Stripe checks (a value's type, then unknown keys, then each key in the order
   sent, then missing ones), with Stripe's message, ``param`` and ``code``.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

try:
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import ValidationError
except ModuleNotFoundError as missing:  # a site that installed the package without the extra
    raise ModuleNotFoundError(
        "The Stripe double (customer_sessions.testing) checks requests with jsonschema, "
        "which the package's testing extra installs: "
        'pip install "django-customer-sessions[testing]"',
        name=missing.name,
    ) from missing

from .encoding import as_list, child, flat
from .errors import ParamError
from .schema import request_schema

__all__ = ["KEYWORDS", "choose", "closed", "coerce", "validate"]

#: The schema keywords this module understands (``x-addition`` marks the extract's additions).
KEYWORDS = frozenset(
    {
        "additionalProperties",
        "anyOf",
        "enum",
        "format",
        "items",
        "maxLength",
        "properties",
        "required",
        "type",
        "x-addition",
    }
)

_INTEGER = re.compile(r"^-?\d+$")
SortKey = tuple[tuple[int, int], ...]


def validate(operation_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` (from :func:`.encoding.parse_form`) checked against the operation's schema,
    with typed leaves.

    Booleans become ``bool``, integers ``int``, arrays ``list``; an empty string that the
    schema allows (Stripe's "unset") stays ``""``. Raises :class:`ParamError` with the
    problem Stripe would name first, in Stripe's words.
    """
    value = coerce(request_schema(operation_id), dict(params))
    found = [
        translated
        for error in _validator(operation_id).iter_errors(value)
        for translated in _translate(error, value)
    ]
    if found:
        raise min(found, key=lambda pair: pair[0])[1]
    result: dict[str, Any] = value
    return result


# --- 1. coercion ----------------------------------------------------------------------


def coerce(schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` as the schema reads it; what cannot be read is left for the check to refuse."""
    alternatives = schema.get("anyOf")
    if alternatives:
        if value == "" and any("" in alt.get("enum", []) for alt in alternatives):
            return ""
        return coerce(alternatives[choose(alternatives, value)], value)
    kind = schema.get("type")
    if kind == "object":
        if value == "":
            return None
        if not isinstance(value, dict):
            return value
        properties: Mapping[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in properties:
                out[key] = coerce(properties[key], item)
            elif isinstance(extra, dict):  # a map entry; "" is Stripe's "unset this key"
                out[key] = "" if item == "" else coerce(extra, item)
            else:
                out[key] = item  # unknown: refused by the check
        return out
    if kind == "array":
        if value == "":
            return None
        items = as_list(value)
        if items is None:
            return value
        return [coerce(schema.get("items", {}), item) for item in items]
    if not isinstance(value, str):
        return value
    if value == "":
        return "" if "" in schema.get("enum", []) else None
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "integer" and _INTEGER.match(value):
        return int(value)
    return value


def choose(alternatives: list[dict[str, Any]], value: Any) -> int:
    """The index of the ``anyOf`` alternative Stripe reads ``value`` by: the first of its
    shape (object, array, or anything else), never the empty-string "unset" one for a
    value that is not empty; the first alternative if none has its shape.

    Works on a parsed value and on a coerced one alike (an index-keyed dict is an array
    where an alternative is one). Stripe's request schemas have no two alternatives of one
    shape but for the "unset" one, so the shape alone decides.
    """
    if isinstance(value, list):
        wanted = "array"
    elif isinstance(value, dict):
        arrays = any(alt.get("type") == "array" for alt in alternatives)
        wanted = "array" if arrays and all(key.isdigit() for key in value) else "object"
    else:
        wanted = "string"
    for index, alt in enumerate(alternatives):
        kind = alt.get("type", "string")
        if kind == wanted or (wanted == "string" and kind not in ("object", "array")):
            if kind == "string" and alt.get("enum") == [""]:
                continue
            return index
    return 0


# --- 2. the check (jsonschema's) ------------------------------------------------------


@functools.cache
def _validator(operation_id: str) -> Draft4Validator:
    return Draft4Validator(closed(request_schema(operation_id)))


def closed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` whose objects refuse keys they do not list, unless they say
    otherwise (a map such as ``metadata`` has an ``additionalProperties`` schema)."""
    out = copy.deepcopy(dict(schema))
    for node in _nodes(out):
        if node.get("type") == "object" and "additionalProperties" not in node:
            node["additionalProperties"] = False
    return out


def _nodes(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from _nodes(sub)
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from _nodes(schema[key])
    for alternative in schema.get("anyOf", []):
        yield from _nodes(alternative)


# --- 3. translation ---------------------------------------------------------------------


def _translate(error: ValidationError, root: Any) -> Iterator[tuple[SortKey, ParamError]]:
    """Stripe's error for one of jsonschema's, with where it comes in Stripe's order."""
    if error.validator == "anyOf":  # only the alternative Stripe reads the value by counts
        alternatives: Any = error.validator_value
        chosen = choose(list(alternatives), error.instance)
        for sub in error.context or []:
            if sub.relative_schema_path[0] == chosen:
                yield from _translate(sub, root)
        return
    path = list(error.absolute_path)
    when, refusal = _refusal(error, _param(path))
    yield _position(root, path) + (when,), refusal


def _refusal(error: ValidationError, name: str) -> tuple[tuple[int, int], ParamError]:
    """Stripe's words for one problem of the value at ``name``, and when Stripe checks it
    among the value's problems: (0, …) the value itself, (1, i) an unknown key, (3, i) a
    missing one; the problems of its own keys, (2, i), come between."""
    instance: Any = error.instance
    given: Any = error.validator_value
    schema: Any = error.schema
    if instance is None:  # an empty string where the schema has no "unset" (see coerce)
        return (0, 0), _empty(name)
    if error.validator == "type":
        code = (
            "parameter_invalid_integer"
            if given == "integer" and isinstance(instance, str)
            else None
        )
        return (0, 0), ParamError(f"Invalid {given}: {flat(instance)}", param=name, code=code)
    if error.validator == "enum":
        return (0, 1), ParamError(f"Invalid {name}: must be one of {_listing(given)}", param=name)
    if error.validator == "maxLength":
        message = f"Invalid {name}: must be at most {given} characters"
        return (0, 2), ParamError(message, param=name)
    if error.validator == "additionalProperties":
        known = schema.get("properties", {})
        index, key = next((i, key) for i, key in enumerate(instance) if key not in known)
        unknown = child(name, key)
        message = f"Received unknown parameter: {unknown}"
        return (1, index), ParamError(message, param=unknown, code="parameter_unknown")
    if error.validator == "required":
        index, key = next((i, key) for i, key in enumerate(given) if key not in instance)
        missing = child(name, key)
        message = f"Missing required param: {missing}."
        return (3, index), ParamError(message, param=missing, code="parameter_missing")
    # A keyword outside KEYWORDS (tests keep the schemas within them): jsonschema's words.
    return (0, 3), ParamError(f"Invalid {name or 'request'}: {error.message}", param=name or None)


def _position(root: Any, path: list[str | int]) -> SortKey:
    """Where ``path`` comes when the keys are read in the order sent (lists: in order)."""
    at: list[tuple[int, int]] = []
    node = root
    for step in path:
        index = step if isinstance(step, int) else list(node).index(step)
        at.append((2, index))
        node = node[step]
    return tuple(at)


def _param(path: list[str | int]) -> str:
    name = ""
    for step in path:
        name = child(name, step)
    return name


def _listing(choices: list[Any]) -> str:
    words = [str(choice) for choice in choices if choice != ""]
    if len(words) > 2:
        return ", ".join(words[:-1]) + f", or {words[-1]}"
    return " or ".join(words)


def _empty(path: str) -> ParamError:
    return ParamError(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
        "from your request or supply a non-empty value.",
        param=path,
        code="parameter_invalid_empty",
    )
