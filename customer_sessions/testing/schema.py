"""Stripe's form encoding and request validation, driven by ``stripe_schema.json``.

The JSON holds the structure of Stripe's OpenAPI request bodies (see
``tools/extract_stripe_schema.py`` for where it comes from). This module parses a
form-encoded body or query string into a nested dict the way Stripe does
(``a[b][c]=x``, ``list[0]=x``, ``list[]=x``) and checks it against a request schema,
raising :class:`ParamError` with the status, code, param and message Stripe answers with.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "ParamError",
    "PAYMENT_INTENT_CREATE",
    "SETUP_INTENT_CREATE",
    "RETRIEVE",
    "load",
    "normalize",
    "parse_form",
    "request_schema",
    "validate",
]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?\d+$")


class ParamError(Exception):
    """A request Stripe refuses before executing it (never stored for idempotency)."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.status = status


@functools.cache
def load() -> dict[str, Any]:
    """The whole ``stripe_schema.json``."""
    text = resources.files(__package__).joinpath("stripe_schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def request_schema(operation_id: str) -> dict[str, Any]:
    schema: dict[str, Any] = load()["requests"][operation_id]
    return schema


def object_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = load()["objects"][name]
    return schema


# --- hand-written request schemas (no extract is given for these) ---------------------

_STRING: dict[str, Any] = {"maxLength": 5000, "type": "string"}
_METADATA: dict[str, Any] = {
    "anyOf": [
        {"additionalProperties": {"type": "string"}, "type": "object"},
        {"enum": [""], "type": "string"},
    ]
}
_EXPAND: dict[str, Any] = {"items": _STRING, "type": "array"}
_AUTOMATIC_PAYMENT_METHODS: dict[str, Any] = {
    "properties": {
        "allow_redirects": {"enum": ["always", "never"], "type": "string"},
        "enabled": {"type": "boolean"},
    },
    "required": ["enabled"],
    "type": "object",
}

#: ``POST /v1/payment_intents``: the parameters a demo checkout page uses.
PAYMENT_INTENT_CREATE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "integer"},
        "automatic_payment_methods": _AUTOMATIC_PAYMENT_METHODS,
        "currency": {"format": "currency", "type": "string"},
        "customer": _STRING,
        "description": {"maxLength": 1000, "type": "string"},
        "expand": _EXPAND,
        "metadata": _METADATA,
        "payment_method_types": {"items": _STRING, "type": "array"},
        "receipt_email": _STRING,
        "setup_future_usage": {"enum": ["off_session", "on_session"], "type": "string"},
    },
    "required": ["amount", "currency"],
    "type": "object",
}

#: ``POST /v1/setup_intents``.
SETUP_INTENT_CREATE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {
        "automatic_payment_methods": _AUTOMATIC_PAYMENT_METHODS,
        "customer": _STRING,
        "description": {"maxLength": 1000, "type": "string"},
        "expand": _EXPAND,
        "metadata": _METADATA,
        "payment_method_types": {"items": _STRING, "type": "array"},
        "usage": {"enum": ["off_session", "on_session"], "type": "string"},
    },
    "type": "object",
}

#: A retrieve: only ``expand`` in the query string.
RETRIEVE: dict[str, Any] = {
    "additionalProperties": False,
    "properties": {"expand": _EXPAND},
    "type": "object",
}


# --- parsing ------------------------------------------------------------------------


def parse_form(text: str) -> dict[str, Any]:
    """A form body or query string as a nested dict, the way Stripe reads it.

    Leaves are strings; ``a[0]=x`` and ``a[]=x`` become dicts keyed by index strings,
    which :func:`validate` reads as arrays where the schema says so.
    """
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        if match:
            segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
        else:
            segments = [key]
        node = root
        for depth, segment in enumerate(segments):
            name = segment if segment != "" else str(len(node))
            path = _path(segments[: depth + 1])
            if depth == len(segments) - 1:
                if isinstance(node.get(name), dict):
                    raise ParamError(f"Invalid hash: {path}", param=path)
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise ParamError(f"Invalid hash: {path}", param=path)
                node = child
    return root


def _path(segments: list[str]) -> str:
    head, *rest = segments
    return head + "".join(f"[{segment}]" for segment in rest)


def _child(path: str, name: str | int) -> str:
    return f"{path}[{name}]" if path else str(name)


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return None


def normalize(value: Any) -> Any:
    """Index-keyed dicts as lists, recursively: the readable form of parsed params."""
    if isinstance(value, dict):
        if value and all(isinstance(key, str) and key.isdigit() for key in value):
            return [normalize(value[key]) for key in sorted(value, key=int)]
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item) for item in value]
    return value


# --- validation ---------------------------------------------------------------------


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


def _flat(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(normalize(value), separators=(",", ":"))
    return str(value)


def validate(schema: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` (from :func:`parse_form`) checked against ``schema``, with typed leaves.

    Booleans become ``bool``, integers ``int``, arrays ``list``; an empty string that the
    schema allows (Stripe's "unset") stays ``""``. Raises :class:`ParamError` on the first
    problem, in Stripe's words.
    """
    result = _object(schema, dict(params), "")
    return result


def _object(schema: Mapping[str, Any], value: dict[str, Any], path: str) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    open_map = isinstance(extra, dict)
    for key in value:
        if key not in properties and not open_map:
            name = _child(path, key)
            raise ParamError(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key, extra if open_map else None)
        assert isinstance(sub, dict)
        if key not in properties and item == "":
            out[key] = ""  # a map entry (metadata[k]=): Stripe's "unset this key"
            continue
        out[key] = _value(sub, item, _child(path, key))
    for key in schema.get("required", []):
        if key not in value:
            name = _child(path, key)
            raise ParamError(
                f"Missing required param: {name}.", param=name, code="parameter_missing"
            )
    return out


def _value(schema: Mapping[str, Any], value: Any, path: str) -> Any:
    alternatives = schema.get("anyOf")
    if alternatives:
        return _any_of(alternatives, value, path)
    kind = schema.get("type")
    if kind == "object":
        if value == "":
            raise _empty(path)
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {_flat(value)}", param=path)
        return _object(schema, value, path)
    if kind == "array":
        if value == "":
            raise _empty(path)
        items = _as_list(value)
        if items is None:
            raise ParamError(f"Invalid array: {_flat(value)}", param=path)
        item_schema = schema.get("items", {})
        return [_value(item_schema, item, _child(path, i)) for i, item in enumerate(items)]
    if isinstance(value, dict):
        raise ParamError(f"Invalid {kind or 'string'}: {_flat(value)}", param=path)
    enum = schema.get("enum")
    if value == "" and not (enum and "" in enum):
        raise _empty(path)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ParamError(f"Invalid boolean: {value}", param=path)
        return value == "true"
    if kind == "integer":
        if not _INTEGER.match(value):
            raise ParamError(
                f"Invalid integer: {value}", param=path, code="parameter_invalid_integer"
            )
        return int(value)
    if enum and value not in enum:
        raise ParamError(f"Invalid {path}: must be one of {_listing(enum)}", param=path)
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and len(value) > max_length:
        raise ParamError(f"Invalid {path}: must be at most {max_length} characters", param=path)
    return value


def _any_of(alternatives: list[dict[str, Any]], value: Any, path: str) -> Any:
    """The first alternative of the value's shape (object, array or string) decides."""
    if value == "" and any("" in alt.get("enum", []) for alt in alternatives):
        return ""
    wanted = "object" if isinstance(value, dict) else "string"
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        if any(alt.get("type") == "array" for alt in alternatives):
            wanted = "array"
    for alt in alternatives:
        kind = alt.get("type", "string")
        if kind == wanted or (wanted == "string" and kind not in ("object", "array")):
            if kind == "string" and alt.get("enum") == [""]:
                continue
            return _value(alt, value, path)
    return _value(alternatives[0], value, path)
