"""A real browser against the demo site: Debian's Chromium driven by Playwright.

The site runs in a real threaded server of its own (``demo_server``) talking to the
``fake_stripe`` double, so its pages load the demo's own stand-in for Stripe.js
(project/static/demo/stripe-stand-in.js), which records what they hand it. With
``STRIPE_JS_STAND_IN`` off they ask js.stripe.com, which cannot be reached from here: those
requests are answered with the same stand-in. Every other request that does not go to the
live server is refused (and listed in ``Browser.blocked``, which tests expect empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and off the network: no Google services, updates, sync or QUIC probes.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
STRIPE_STAND_IN = (ROOT / "project" / "static" / "demo" / "stripe-stand-in.js").read_text()
PASSWORD = "a-long-demo-password"


#: What makes the suite's site the demo for these tests: its URLs, pages, static files and
#: middleware, read from the demo's own settings.
DEMO_SETTINGS = (
    "ROOT_URLCONF",
    "TEMPLATES",
    "MIDDLEWARE",
    "STATICFILES_DIRS",
    "STATIC_URL",
    "LOGIN_URL",
    "LOGIN_REDIRECT_URL",
    "LOGOUT_REDIRECT_URL",
    "STRIPE_PRICING_TABLE_ID",
    "STRIPE_BUY_BUTTON_ID",
    "SECURE_CSP",
    "CONTENT_SECURITY_POLICY",
    "STRIPE_JS_STAND_IN",
)


@pytest.fixture(autouse=True)
def demo_site(settings: Any) -> None:
    """For the test client too: the suite's site becomes the demo (urls, pages, middleware)."""
    import importlib

    demo = importlib.import_module("project.settings")
    for name in DEMO_SETTINGS:
        if hasattr(demo, name):
            setattr(settings, name, getattr(demo, name))


@pytest.fixture(scope="module")
def demo_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The demo's pages on the test database, served by a real threaded server.

    pytest-django's ``live_server`` is made once for the whole run, with the suite's own
    settings; the demo's middleware (its Content-Security-Policy) must be loaded by the
    server's handler, so the demo gets a server of its own, started under its settings.
    """
    import importlib

    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    demo = importlib.import_module("project.settings")
    override = override_settings(
        **{name: getattr(demo, name) for name in DEMO_SETTINGS if hasattr(demo, name)}
    )
    override.enable()
    try:
        with django_db_blocker.unblock():
            server = LiveServer("localhost")
        try:
            yield server
        finally:
            server.stop()
    finally:
        override.disable()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for the tests of one module.

    Playwright's sync API leaves its asyncio loop marked as running on this thread until it
    stops, and Django refuses ORM calls on a thread with a running loop. The tests here are
    plain synchronous code, so the check is lifted while the browser runs, and the browser
    stops at the end of the module so that no other test runs with either.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium); "
            "CI installs it, so these tests always run there"
        )
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # launch() gives the browser a fresh, temporary user data directory.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Browser:
    """One signed-out browser profile on the live site."""

    page: Any
    base_url: str
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    stripe_js_requests: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def sign_in(self, username: str, password: str = PASSWORD, next_path: str = "") -> None:
        """Through the real login form, as a person would."""
        self.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def stripe_calls(self, name: str | None = None) -> list[dict[str, Any]]:
        calls = self.page.evaluate("window.__stripeCalls || []")
        return [c["args"] for c in calls if name is None or c["name"] == name]

    def wait_for_call(self, name: str, count: int = 1) -> list[dict[str, Any]]:
        self.page.wait_for_function(
            "([name, count]) => (window.__stripeCalls || [])"
            ".filter(c => c.name === name).length >= count",
            arg=[name, count],
        )
        return self.stripe_calls(name)


@pytest.fixture
def browser(chromium: Any, demo_server: Any, fake_stripe: Any) -> Iterator[Browser]:
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    result = Browser(page=page, base_url=demo_server.url)
    local = urlsplit(demo_server.url).netloc

    def handler(route: Any, request: Any) -> None:
        url = urlsplit(request.url)
        if url.netloc == local:
            route.continue_()
        elif url.scheme == "https" and url.netloc == "js.stripe.com":
            result.stripe_js_requests.append(request.url)
            route.fulfill(status=200, content_type="application/javascript", body=STRIPE_STAND_IN)
        else:
            result.blocked.append(request.url)
            route.abort()

    context.route("**/*", handler)
    page.on(
        "console",
        lambda msg: result.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: result.console_errors.append(str(exc)))
    try:
        yield result
    finally:
        context.close()


@pytest.fixture
def demo_user(transactional_db: None) -> Any:
    from tests.factories import UserFactory

    return UserFactory(username="ada", password=PASSWORD)
