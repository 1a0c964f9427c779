"""A screenshot of each demo page, as the README shows them.

``make screenshots`` writes them to ``docs/screenshots/`` (``SCREENSHOTS_DIR``); in the
suite they go to a temporary directory, and the test checks each is a picture of the page.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.factories import UserFactory

from .conftest import PASSWORD, Browser

pytestmark = pytest.mark.django_db(transaction=True)

# (file name, path, what to wait for before the picture is taken)
PAGES = [
    ("home", "/", "ul.pages"),
    ("checkout", "/checkout/", "#payment-element .stripe-stand-in"),
    ("save-card", "/checkout/save-card/", "#payment-element .stripe-stand-in"),
    ("pricing-table", "/pricing-table/", "stripe-pricing-table .stripe-stand-in"),
    ("buy-button", "/buy-button/", "stripe-buy-button .stripe-stand-in"),
    ("spa", "/spa/", "#session-status[data-kind=success]"),
]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_each_page_is_photographed(
    browser: Browser, fake_stripe: Any, settings: Any, tmp_path: Path
) -> None:
    out = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    settings.STRIPE_PRICING_TABLE_ID = "prctbl_simulated"
    settings.STRIPE_BUY_BUTTON_ID = "buy_btn_simulated"
    UserFactory(username="demo", password=PASSWORD)

    browser.goto("/accounts/login/")
    browser.page.fill("input[name=username]", "demo")
    browser.page.screenshot(path=out / "login.png", full_page=True)
    browser.sign_in("demo")
    for name, path, ready in PAGES:
        browser.goto(path)
        browser.page.locator(ready).first.wait_for()
        browser.page.screenshot(path=out / f"{name}.png", full_page=True)

    for name in ["login", *(name for name, _, _ in PAGES)]:
        width, height = png_size(out / f"{name}.png")
        assert width == 1100 and height >= 600
    assert browser.blocked == []
    assert browser.console_errors == []
