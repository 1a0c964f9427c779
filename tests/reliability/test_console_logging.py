"""stripe-python's console output never prints a secret, on a server that never runs check.

With ``STRIPE_LOG=debug`` stripe-python prints every response body to stderr, past every
logging filter. The demo runs under gunicorn with it set; what gunicorn printed is read.
"""

from __future__ import annotations

import re

import pytest
import requests
import stripe

from customer_sessions.exceptions import StripeMisconfigured
from customer_sessions.services import create_customer_session, get_client

from ..factories import UserFactory
from ..servers import browser_cookies, gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = re.compile(r"cuss_secret_|pi_[A-Za-z0-9]+_secret_|seti_[A-Za-z0-9]+_secret_")


def ask_for_secrets(url: str, user) -> tuple[requests.Response, requests.Response]:  # type: ignore[no-untyped-def]
    cookies, headers = browser_cookies(user)
    endpoint = requests.post(
        url + "/api/customer-session/", cookies=cookies, headers=headers, timeout=30
    )
    page = requests.get(url + "/checkout/", cookies=cookies, timeout=30)
    return endpoint, page


def test_with_stripe_log_debug_gunicorn_prints_no_secret_and_says_why(fake_stripe):
    user = UserFactory()
    with gunicorn(
        ["--workers", "1"],
        stripe_url=fake_stripe.url,
        stripe_key=fake_stripe.secret_key,
        env={"STRIPE_LOG": "debug"},
    ) as site:
        endpoint, page = ask_for_secrets(site.url, user)
        intent = requests.post(
            site.url + "/checkout/payment/intent/",
            cookies=browser_cookies(user)[0],
            headers=browser_cookies(user)[1],
            timeout=30,
        )
        output = site.output()

    assert endpoint.status_code == 500
    assert endpoint.json()["code"] == "stripe_misconfigured"
    assert page.status_code == 200
    assert "cuss_secret_" not in page.text  # the page renders, without saved methods
    assert intent.status_code >= 400  # the site's own PaymentIntent is refused too
    assert not SECRETS.search(output)
    assert "STRIPE_LOG" in output and "no request is sent to Stripe" in output
    assert fake_stripe.requests == []


def test_with_stripe_log_info_sessions_work_and_no_secret_is_printed(fake_stripe):
    user = UserFactory()
    with gunicorn(
        ["--workers", "1"],
        stripe_url=fake_stripe.url,
        stripe_key=fake_stripe.secret_key,
        env={"STRIPE_LOG": "info"},
    ) as site:
        endpoint, page = ask_for_secrets(site.url, user)
        output = site.output()

    assert endpoint.status_code == 201
    assert "cuss_secret_" in page.text
    assert "Request to Stripe api" in output  # stripe-python does print its request lines
    assert not SECRETS.search(output)


def test_turned_on_at_run_time_even_a_client_made_before_refuses(fake_stripe, monkeypatch, capsys):
    user = UserFactory()
    client = get_client()
    monkeypatch.setattr(stripe, "log", "debug")

    with pytest.raises(StripeMisconfigured):
        create_customer_session(user)
    with pytest.raises(StripeMisconfigured):
        client.v1.customers.create(params={"email": "x@example.com"})
    assert fake_stripe.requests == []
    assert not SECRETS.search(capsys.readouterr().err)
