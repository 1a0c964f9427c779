"""Stripe's form encoding: bodies and query strings as nested dicts, and back.

Stripe reads ``a[b][c]=x`` as ``{"a": {"b": {"c": "x"}}}`` and ``list[0]=x`` or
``list[]=x`` as an array; no library parses this bracket syntax the way Stripe does
(``urllib.parse`` gives flat pairs, and OpenAPI's ``deepObject`` style is one level deep),
so it is written here. Every leaf stays a string: which ones are integers, booleans or
arrays only the request schema says (see :mod:`.validation`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .errors import ParamError

__all__ = ["as_list", "child", "encode", "flat", "normalize", "parse_form"]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse_form(text: str) -> dict[str, Any]:
    """A form body or query string as a nested dict, the way Stripe reads it.

    Leaves are strings; ``a[0]=x`` and ``a[]=x`` become dicts keyed by index strings,
    which validation reads as arrays where the schema says so. A key used both as a value
    and as a hash (``a=1&a[b]=2``) is refused with Stripe's "Invalid hash".
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
                branch = node.setdefault(name, {})
                if not isinstance(branch, dict):
                    raise ParamError(f"Invalid hash: {path}", param=path)
                node = branch
    return root


def encode(params: Mapping[str, Any]) -> str:
    """``params`` form-encoded the way stripe-python encodes them (None left out)."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), v)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif isinstance(value, bool):
            pairs.append((prefix, "true" if value else "false"))
        else:
            pairs.append((prefix, str(value)))

    walk("", params)
    return urlencode(pairs)


def _path(segments: list[str]) -> str:
    head, *rest = segments
    return head + "".join(f"[{segment}]" for segment in rest)


def child(path: str, name: str | int) -> str:
    """The parameter name of ``name`` inside ``path``: ``a[b]``, or ``name`` at the top."""
    return f"{path}[{name}]" if path else str(name)


def as_list(value: Any) -> list[Any] | None:
    """A parsed array (a dict keyed by indexes) as a list in index order; None if not one."""
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


def flat(value: Any) -> str:
    """A parsed value as Stripe quotes it in an error: strings as they are, the rest as JSON."""
    if isinstance(value, dict | list):
        return json.dumps(normalize(value), separators=(",", ":"))
    return str(value)
