"""The components of a Customer Session and their features, as the installed stripe-python
describes them, and the check of a site's presets against them.

stripe-python ships the parameters of ``POST /v1/customer_sessions`` as typed dicts
(``stripe.params.CustomerSessionCreateParamsComponents``) for the API version it pins;
reading them gives the components (``payment_element``, ``pricing_table``, ``buy_button``,
``customer_sheet``, ``mobile_payment_element``, and whatever a newer version adds) with
each feature and the values it takes. A preset naming anything else is refused by a
system check, not by Stripe at the first checkout.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe


@dataclass(frozen=True)
class Feature:
    """One feature of a component: the values it takes (``None``: any integer)."""

    values: frozenset[str] | None
    many: bool  # a list of values (payment_method_allow_redisplay_filters)

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this feature, or ``None``."""
        if self.many:
            if not isinstance(value, list | tuple) or not value:
                return "must be a non-empty list"
            bad = [v for v in value if v not in (self.values or ())]
            return f"has {bad[0]!r}, not one of {_listing(self.values)}" if bad else None
        if self.values is None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                return "must be a positive whole number"
            return None
        if value not in self.values:
            return f"is {value!r}, not one of {_listing(self.values)}"
        return None


def _listing(values: frozenset[str] | None) -> str:
    return ", ".join(repr(v) for v in sorted(values or ()))


def _literals(hint: Any) -> frozenset[str]:
    found: set[str] = set()
    for arg in typing.get_args(hint):
        if typing.get_origin(arg) is typing.Literal:
            found.update(typing.get_args(arg))
        elif typing.get_args(arg):
            found.update(_literals(arg))
    if typing.get_origin(hint) is typing.Literal:
        found.update(typing.get_args(hint))
    return frozenset(found)


def _feature(hint: Any) -> Feature:
    if hint is int:
        return Feature(values=None, many=False)
    if typing.get_origin(hint) is list:
        return Feature(values=_literals(typing.get_args(hint)[0]), many=True)
    return Feature(values=_literals(hint), many=False)


@functools.cache
def catalogue() -> dict[str, dict[str, Feature]]:
    """Component name → its features (an empty dict for a component without features)."""
    components: dict[str, dict[str, Feature]] = {}
    for name, hint in typing.get_type_hints(
        stripe.params.CustomerSessionCreateParamsComponents
    ).items():
        fields = typing.get_type_hints(hint)
        features = typing.get_type_hints(fields["features"]) if "features" in fields else {}
        components[name] = {key: _feature(value) for key, value in features.items()}
    return components


def preset_problems(preset: str, components: Any) -> list[str]:
    """Every way the components of ``preset`` are not what Stripe accepts."""
    if not isinstance(components, Mapping) or not components:
        return [f"preset {preset!r} must be a non-empty dict of component name → settings"]
    known = catalogue()
    problems: list[str] = []
    enabled = 0
    for name, settings in components.items():
        where = f"preset {preset!r}, component {name!r}"
        if name not in known:
            problems.append(
                f"{where} is not a component of Customer Sessions (stripe-python "
                f"{stripe.VERSION} knows {', '.join(sorted(known))})"
            )
            continue
        if not isinstance(settings, Mapping):
            problems.append(f"{where} must be a dict such as {{'enabled': True}}")
            continue
        unknown = sorted(set(settings) - {"enabled", "features"})
        if unknown:
            problems.append(f"{where} has {unknown[0]!r}; a component takes enabled and features")
        if not isinstance(settings.get("enabled"), bool):
            problems.append(f"{where} needs 'enabled': True or False")
        elif settings["enabled"]:
            enabled += 1
        features = settings.get("features")
        if features is None:
            continue
        if not known[name]:
            problems.append(f"{where} has no features")
            continue
        if not isinstance(features, Mapping):
            problems.append(f"{where}: 'features' must be a dict")
            continue
        for feature, value in features.items():
            spec = known[name].get(feature)
            if spec is None:
                problems.append(
                    f"{where}, feature {feature!r} is not a feature of {name} (it has "
                    f"{', '.join(sorted(known[name]))})"
                )
                continue
            problem = spec.problem(value)
            if problem:
                problems.append(f"{where}, feature {feature!r} {problem}")
    if not problems and not enabled:
        problems.append(f"preset {preset!r} enables no component (Stripe needs at least one)")
    return problems
