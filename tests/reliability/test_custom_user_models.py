"""The app with custom user models: one without an email field, one with a UUID primary key.

``AUTH_USER_MODEL`` cannot change inside a running process, so each model gets its own
pytest run (its own settings module and test database): tests/customusers/.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..servers import ROOT


@pytest.mark.parametrize("model", ["handle", "uuid"], ids=["no-email-field", "uuid-pk"])
def test_app_works_with_custom_user_model(model):
    result = subprocess.run(  # noqa: S603 - our own command line
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/customusers/check_custom_user.py",
            f"--ds=tests.customusers.settings_{model}",
            "--create-db",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
