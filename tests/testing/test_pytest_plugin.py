"""The pytest plugin (``pytest_plugin.py``): the ``fake_stripe`` fixture, in any project."""

from __future__ import annotations

import os
import subprocess
import sys

from .helpers import client_for


def test_plugin_fixture(fake_stripe):
    assert fake_stripe.requests == []
    customer = client_for(fake_stripe).v1.customers.create()
    assert fake_stripe.customers[0]["id"] == customer.id


def test_the_fixture_points_the_apps_settings_at_the_double(fake_stripe, settings):
    configured = settings.CUSTOMER_SESSIONS

    assert configured["API_BASE"] == fake_stripe.url
    assert configured["SECRET_KEY"] == fake_stripe.secret_key
    assert configured["PUBLISHABLE_KEY"] == fake_stripe.publishable_key


def test_a_project_without_jsonschema_loads_the_plugin_and_is_told_what_to_install(tmp_path):
    """pytest loads the plugin in every project that installed the package, extra or not."""
    (tmp_path / "test_site.py").write_text(
        "def test_without_the_double():\n    pass\n\n\n"
        "def test_with_the_double(fake_stripe):\n    pass\n"
    )
    run = (
        "import sys; sys.modules['jsonschema'] = None; import pytest; "
        "sys.exit(pytest.main(sys.argv[1:]))"
    )

    result = subprocess.run(  # noqa: S603 - this interpreter, a test file of its own
        [sys.executable, "-c", run, "-p", "customer_sessions.testing.pytest_plugin", "-q"],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert "1 passed, 1 error" in result.stdout, result.stdout + result.stderr
    assert 'pip install "django-customer-sessions[testing]"' in result.stdout
