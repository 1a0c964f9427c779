"""Checks of the component presets, before the first checkout sends them to Stripe (E011)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from ..conf import SETTING_NAME, get_settings


@checks.register()
def check_component_presets(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Each preset's components, features and values as stripe-python knows them."""
    from ..components import preset_problems

    presets = get_settings().COMPONENT_PRESETS
    return [
        checks.Error(
            f"{SETTING_NAME}['COMPONENT_PRESETS']: {problem}.",
            hint="Stripe would refuse every session of this preset (400) at the first "
            "checkout. See the presets and features in docs/settings.md#component_presets.",
            id="customer_sessions.E011",
        )
        for name, components in presets.items()
        for problem in preset_problems(str(name), components)
    ]
