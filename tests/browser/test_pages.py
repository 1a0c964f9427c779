"""The demo pages in a real browser: what each one hands to Stripe.js.

The site talks to the Stripe double, so its pages load the demo's labelled stand-in for
Stripe.js (project/static/demo/stripe-stand-in.js), which records what they hand it and
shows it where Stripe's form would be. Each test signs in through the real login page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from customer_sessions.models import StripeCustomer
from project.views import PRODUCT

from .conftest import Browser

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = ["/checkout/", "/checkout/save-card/", "/pricing-table/", "/buy-button/", "/spa/"]
STAND_IN = "/static/demo/stripe-stand-in.js"


def scripts(browser: Browser) -> list[str]:
    """The src of each script element of the page, as the page wrote it."""
    return browser.page.eval_on_selector_all(
        "script[src]", "scripts => scripts.map(s => s.getAttribute('src'))"
    )


def latest_secret(fake_stripe: Any) -> str:
    return str(fake_stripe.customer_sessions[-1]["client_secret"])


def mapped_customer(user: Any) -> str:
    return StripeCustomer.objects.get(user=user).customer_id


def assert_clean(browser: Browser) -> None:
    """Nothing but the site and js.stripe.com was asked for; no CSP violation or JS error."""
    assert browser.blocked == []
    assert browser.console_errors == []


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(
    browser: Browser, demo_user: Any, fake_stripe: Any, path: str
) -> None:
    browser.goto(path)
    assert browser.page.url == f"{browser.base_url}/accounts/login/?next={path}"
    assert fake_stripe.requests == []

    browser.page.fill("input[name=username]", demo_user.username)
    browser.page.fill("input[name=password]", "a-long-demo-password")
    browser.page.click("button[type=submit]")
    browser.page.wait_for_url(browser.base_url + path)
    assert_clean(browser)


def test_the_home_page_links_every_page_and_signing_out_ends_access(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    assert browser.page.url == browser.base_url + "/"
    links = browser.page.eval_on_selector_all(
        "ul.pages a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert links == PAGES

    browser.goto("/checkout/")
    browser.page.click("text=Sign out ada")
    browser.page.wait_for_url(browser.base_url + "/")
    assert browser.page.is_visible("nav >> text=Sign in")
    browser.goto("/spa/")
    assert browser.page.url == f"{browser.base_url}/accounts/login/?next=/spa/"
    assert_clean(browser)


def test_checkout_hands_the_payment_element_a_fresh_session_from_a_json_element(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    response = browser.goto("/checkout/")
    assert response.status == 200
    assert "no-store" in response.headers["cache-control"]

    (options,) = browser.wait_for_call("elements")
    secret = latest_secret(fake_stripe)
    assert secret.startswith("cuss_secret_")
    assert options["customerSessionClientSecret"] == secret
    assert options["mode"] == "payment"
    assert (options["amount"], options["currency"]) == (PRODUCT["amount"], PRODUCT["currency"])
    assert browser.stripe_calls("Stripe") == [
        {"publishableKey": fake_stripe.publishable_key, "options": None}
    ]
    assert browser.stripe_calls("element.mount") == [{"type": "payment"}]
    # The session is the user's: its customer is the one the app mapped to them.
    assert fake_stripe.customer_sessions[-1]["customer"] == mapped_customer(demo_user)
    # The secret is in the page once, as data in the JSON element, not in script source.
    data = json.loads(browser.page.text_content("script#customer-session"))
    assert data["client_secret"] == secret
    assert browser.page.content().count(secret) == 1
    inline = browser.page.eval_on_selector_all(
        "script:not([src])", "scripts => scripts.map(s => s.type)"
    )
    assert set(inline) == {"application/json"}
    # Stripe is simulated: Stripe.js is the demo's stand-in, which shows what it was handed.
    assert STAND_IN in scripts(browser) and browser.stripe_js_requests == []
    shown = browser.page.text_content("#payment-element .stripe-stand-in")
    assert "Payment Element · Stripe.js stand-in" in shown
    assert "With a Customer Session" in shown
    assert fake_stripe.publishable_key in shown and str(PRODUCT["amount"]) in shown
    assert secret[:16] in shown and secret not in shown  # shortened, in the page once
    assert_clean(browser)

    browser.page.reload()
    (options,) = browser.wait_for_call("elements")
    assert options["customerSessionClientSecret"] == latest_secret(fake_stripe)
    assert options["customerSessionClientSecret"] != secret
    assert len(fake_stripe.customer_sessions) == 2
    assert len(fake_stripe.customers) == 1


def test_paying_creates_the_payment_intent_on_the_server_for_the_users_customer(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    browser.goto("/checkout/")
    browser.wait_for_call("element.mount")

    with browser.page.expect_request("**/checkout/payment/intent/") as intent_request:
        browser.page.click("#submit")
    (confirm,) = browser.wait_for_call("confirmPayment")

    (intent,) = fake_stripe.payment_intents
    assert intent["customer"] == mapped_customer(demo_user)
    assert (intent["amount"], intent["currency"]) == (PRODUCT["amount"], PRODUCT["currency"])
    assert confirm["clientSecret"] == intent["client_secret"]
    assert confirm["confirmParams"] == {"return_url": browser.base_url + "/checkout/done/"}
    assert intent_request.value.headers["x-csrftoken"]
    assert browser.page.text_content("#payment-message") == "Payment succeeded. Thank you!"
    assert_clean(browser)


def test_saving_a_card_confirms_a_setup_intent_for_the_users_customer(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    browser.goto("/checkout/save-card/")
    (options,) = browser.wait_for_call("elements")
    assert options["mode"] == "setup"
    assert options["customerSessionClientSecret"] == latest_secret(fake_stripe)
    assert "amount" not in options

    browser.page.click("#submit")
    (confirm,) = browser.wait_for_call("confirmSetup")

    (intent,) = fake_stripe.setup_intents
    assert intent["customer"] == mapped_customer(demo_user)
    assert confirm["clientSecret"] == intent["client_secret"]
    assert fake_stripe.payment_intents == []
    assert "Card saved" in browser.page.text_content("#payment-message")
    assert_clean(browser)


def test_when_stripe_fails_the_checkout_renders_and_pays_without_saved_methods(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    fake_stripe.fail_next(500, times=None)
    response = browser.goto("/checkout/")
    assert response.status == 200
    (options,) = browser.wait_for_call("elements")
    assert "customerSessionClientSecret" not in options
    assert browser.page.query_selector("script#customer-session") is None
    assert "no Customer Session" in browser.page.text_content("#payment-element")

    fake_stripe.clear_faults()  # Stripe is back by the time the customer pays.
    browser.page.click("#submit")
    (confirm,) = browser.wait_for_call("confirmPayment")
    (intent,) = fake_stripe.payment_intents
    assert confirm["clientSecret"] == intent["client_secret"]
    assert intent["customer"] == mapped_customer(demo_user)
    assert fake_stripe.customer_sessions == []
    assert_clean(browser)


def test_a_failed_payment_start_shows_a_clear_message(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    browser.goto("/checkout/")
    browser.wait_for_call("element.mount")
    fake_stripe.fail_next(400, path="/v1/payment_intents")

    browser.page.click("#submit")
    message = browser.page.locator("#payment-message")
    message.wait_for(state="visible")
    assert message.text_content() == (
        "Stripe could not start the payment. Nothing was charged; please try again. (stripe_error)"
    )
    assert browser.stripe_calls("confirmPayment") == []
    assert browser.page.is_enabled("#submit")
    # The browser reports the failed fetch (502) in its console; nothing else went wrong.
    assert [e for e in browser.console_errors if "502" not in e] == []


@pytest.mark.parametrize(
    ("path", "setting", "object_id", "tag", "id_attribute", "component"),
    [
        (
            "/pricing-table/",
            "STRIPE_PRICING_TABLE_ID",
            "prctbl_1Demo",
            "stripe-pricing-table",
            "pricing-table-id",
            "pricing_table",
        ),
        (
            "/buy-button/",
            "STRIPE_BUY_BUTTON_ID",
            "buy_btn_1Demo",
            "stripe-buy-button",
            "buy-button-id",
            "buy_button",
        ),
    ],
)
def test_stripe_web_components_get_the_session_attribute(
    browser: Browser,
    demo_user: Any,
    fake_stripe: Any,
    settings: Any,
    path: str,
    setting: str,
    object_id: str,
    tag: str,
    id_attribute: str,
    component: str,
) -> None:
    setattr(settings, setting, object_id)
    browser.sign_in(demo_user.username)
    browser.goto(path)

    (attributes,) = browser.wait_for_call(tag)
    session = fake_stripe.customer_sessions[-1]
    assert attributes == {
        id_attribute: object_id,
        "publishable-key": fake_stripe.publishable_key,
        "customer-session-client-secret": session["client_secret"],
    }
    assert session["client_secret"].startswith("cuss_secret_")
    assert session["components"][component]["enabled"] is True
    assert session["customer"] == mapped_customer(demo_user)
    assert browser.stripe_js_requests == []
    shown = browser.page.text_content(f"{tag} .stripe-stand-in")
    assert f"{id_attribute}{object_id}" in shown
    assert session["client_secret"][:16] in shown
    assert_clean(browser)

    browser.page.reload()
    (again,) = browser.wait_for_call(tag)
    assert again["customer-session-client-secret"] == latest_secret(fake_stripe)
    assert again["customer-session-client-secret"] != session["client_secret"]


@pytest.mark.parametrize(
    ("path", "setting"),
    [("/pricing-table/", "STRIPE_PRICING_TABLE_ID"), ("/buy-button/", "STRIPE_BUY_BUTTON_ID")],
)
def test_without_an_id_the_component_page_says_what_to_set(
    browser: Browser, demo_user: Any, fake_stripe: Any, settings: Any, path: str, setting: str
) -> None:
    setattr(settings, setting, "")
    browser.sign_in(demo_user.username)
    browser.goto(path)
    assert f"{setting}=" in browser.page.text_content(".notice")
    assert fake_stripe.customer_sessions == []
    assert_clean(browser)


def test_the_javascript_page_asks_the_endpoint_with_csrf_and_renews_before_expiry(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    browser.page.clock.install()
    with browser.page.expect_response("**/api/customer-session/") as answer:
        response = browser.goto("/spa/")
    assert "cuss_" not in response.text()  # nothing secret in the HTML

    api = answer.value
    assert api.status == 201
    assert api.request.method == "POST"
    assert api.request.headers["x-csrftoken"]
    assert json.loads(api.request.post_data) == {"components": "payment_element"}
    (options,) = browser.wait_for_call("elements")
    first = api.json()["client_secret"]
    assert first == latest_secret(fake_stripe)
    assert options["customerSessionClientSecret"] == first
    assert options["mode"] == "payment"
    browser.page.locator("#session-status[data-kind=success]").wait_for()

    # A minute before the session expires, the page asks for a new one and remounts.
    lifetime = api.json()["expires_at"] - fake_stripe.customer_sessions[-1]["created"]
    with browser.page.expect_response("**/api/customer-session/") as renewed:
        browser.page.clock.fast_forward((lifetime - 55) * 1000)
    assert renewed.value.status == 201
    options = browser.wait_for_call("elements", 2)[1]
    assert options["customerSessionClientSecret"] == latest_secret(fake_stripe) != first
    assert len(browser.stripe_calls("element.destroy")) == 1
    # The stand-in shows the renewal: one box, for the second session of the page.
    (shown,) = browser.page.locator(".stripe-stand-in").all_text_contents()
    assert "(2 on this page)" in shown
    assert options["customerSessionClientSecret"][:16] in shown and first[:16] not in shown
    assert len(fake_stripe.customers) == 1
    assert_clean(browser)


def test_the_javascript_page_explains_an_error_answer_and_tries_again(
    browser: Browser, demo_user: Any, fake_stripe: Any
) -> None:
    browser.sign_in(demo_user.username)
    browser.page.clock.install()
    fake_stripe.fail_next(500, times=None, path="/v1/customer_sessions")
    with browser.page.expect_response("**/api/customer-session/") as answer:
        browser.goto("/spa/")
    assert answer.value.status == 503
    status = browser.page.locator("#session-status[data-kind=error]")
    status.wait_for()
    retry_after = int(answer.value.headers["retry-after"])
    assert status.text_content() == (
        "Could not load your saved payment methods: "
        f"{answer.value.json()['detail']} (stripe_unavailable) "
        f"Trying again in {retry_after} s."
    )
    # Meanwhile the customer can pay without saved methods.
    (options,) = browser.wait_for_call("elements")
    assert "customerSessionClientSecret" not in options

    fake_stripe.clear_faults()
    with browser.page.expect_response("**/api/customer-session/") as again:
        browser.page.clock.fast_forward(retry_after * 1000)
    assert again.value.status == 201
    options = browser.wait_for_call("elements", 2)[1]
    assert options["customerSessionClientSecret"] == latest_secret(fake_stripe)
    assert browser.blocked == []
    # The browser reports the failed fetch (503) in its console; nothing else went wrong.
    assert [e for e in browser.console_errors if "503" not in e] == []


@pytest.mark.parametrize(
    ("path", "ready", "component_script"),
    [
        ("/checkout/", "elements", None),
        ("/pricing-table/", "stripe-pricing-table", "pricing-table.js"),
        ("/buy-button/", "stripe-buy-button", "buy-button.js"),
        ("/spa/", "elements", None),
    ],
)
def test_without_the_stand_in_the_pages_load_stripe_js_from_stripe(
    browser: Browser,
    demo_user: Any,
    fake_stripe: Any,
    settings: Any,
    path: str,
    ready: str,
    component_script: str | None,
) -> None:
    """STRIPE_JS_STAND_IN=0, as with real keys: Stripe's own scripts, which the CSP allows
    (here js.stripe.com answers with the same stand-in, recording what it is handed)."""
    settings.STRIPE_JS_STAND_IN = False
    settings.STRIPE_PRICING_TABLE_ID = "prctbl_1Demo"
    settings.STRIPE_BUY_BUTTON_ID = "buy_btn_1Demo"
    browser.sign_in(demo_user.username)
    browser.goto(path)
    browser.wait_for_call(ready)
    expected = {"https://js.stripe.com/v3/"}
    if component_script:
        expected.add(f"https://js.stripe.com/v3/{component_script}")
    assert set(browser.stripe_js_requests) == expected
    assert STAND_IN not in scripts(browser)
    banner = " ".join(browser.page.text_content(".banner").split())
    assert "Stripe.js cannot show real payment forms" in banner and "stand-in" not in banner
    assert_clean(browser)


@pytest.mark.parametrize("path", ["/", "/accounts/login/", *PAGES])
def test_every_page_has_the_csp_and_the_simulated_stripe_banner(
    browser: Browser, demo_user: Any, fake_stripe: Any, path: str
) -> None:
    if path != "/accounts/login/":
        browser.sign_in(demo_user.username)
    response = browser.goto(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' https://js.stripe.com" in csp
    assert "frame-src https://js.stripe.com" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    banner = " ".join(browser.page.text_content(".banner").split())
    assert "Stripe is simulated." in banner
    assert "a stand-in shows what each page hands to it" in banner
    assert STAND_IN in scripts(browser) and browser.stripe_js_requests == []
    assert_clean(browser)
