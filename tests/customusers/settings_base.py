"""Shared by the custom-user settings: a test database of their own."""

from __future__ import annotations

import copy
from typing import Any


def isolate(databases: dict[str, Any], suffix: str) -> dict[str, Any]:
    """``databases`` with a test database name of its own, so that this run never touches
    the test database of the main run (which may be in use at the same time)."""
    databases = copy.deepcopy(databases)
    default = databases["default"]
    test = default.setdefault("TEST", {})
    if default["ENGINE"] == "django.db.backends.sqlite3":
        test["NAME"] = f"{test.get('NAME') or default['NAME']}.{suffix}"
    else:
        test["NAME"] = f"test_{default['NAME']}_{suffix}"
    return databases
