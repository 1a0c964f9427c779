"""The demo as a mobile app's backend: DRF token authentication beside the browser's session.

The demo runs in its own processes with its own settings and URLconf (gunicorn for the sync
endpoint; gunicorn with uvicorn's worker for ``project.asgi``, which mounts the async one),
on the test database and the session's Stripe double. The client is what a mobile app is:
plain HTTP with ``Authorization: Token …``, no cookie, no CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from rest_framework.authtoken.models import Token

from customer_sessions.models import StripeCustomer
from tests.factories import UserFactory
from tests.servers import Site, gunicorn

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SERVERS = {
    "wsgi": {"args": ["--workers", "1"], "app": "project.wsgi:application"},
    "asgi": {
        "args": ["--workers", "1", "--worker-class", "uvicorn.workers.UvicornWorker"],
        "app": "project.asgi:application",
    },
}


@pytest.fixture(scope="module", params=list(SERVERS))
def demo(
    request: pytest.FixtureRequest, django_db_setup: None, fake_stripe_server: Any
) -> Iterator[Site]:
    server = SERVERS[request.param]
    with gunicorn(
        server["args"],
        app=str(server["app"]),
        stripe_url=fake_stripe_server.url,
        stripe_key=fake_stripe_server.secret_key,
    ) as site:
        site.name = request.param
        yield site


def session_of(site: Site, token: str | None, **body: Any) -> requests.Response:
    headers = {"Authorization": f"Token {token}"} if token is not None else {}
    return requests.post(
        site.url + "/api/customer-session/", json=body, headers=headers, timeout=60
    )


def directives(response: requests.Response) -> set[str]:
    return {part.strip() for part in response.headers["Cache-Control"].split(",")}


def test_a_token_gets_its_users_session_with_no_cookie_and_no_csrf(demo, fake_stripe):
    user = UserFactory()
    token = Token.objects.create(user=user).key

    response = session_of(demo, token, components="mobile_payment_element")

    assert response.status_code == 201, response.text
    assert "Set-Cookie" not in response.headers
    body = response.json()
    assert body["customer"] == StripeCustomer.objects.get(user=user).customer_id
    assert body["client_secret"] == fake_stripe.customer_sessions[-1]["client_secret"]
    assert set(fake_stripe.requests[-1].params["components"]) == {"mobile_payment_element"}
    assert {"no-store", "private"} <= directives(response)


def test_the_customer_is_the_tokens_users_whatever_the_app_sends(demo, fake_stripe):
    mine, theirs = UserFactory(), UserFactory()
    token = Token.objects.create(user=mine).key
    session_of(demo, Token.objects.create(user=theirs).key)
    their_customer = StripeCustomer.objects.get(user=theirs).customer_id

    named = session_of(demo, token, customer=their_customer)
    assert named.status_code == 400
    assert named.json()["code"] == "invalid"

    response = session_of(demo, token, components="customer_sheet")
    assert response.status_code == 201
    assert response.json()["customer"] == StripeCustomer.objects.get(user=mine).customer_id
    assert response.json()["customer"] != their_customer


@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "not_authenticated"), ("0" * 40, "authentication_failed")],
    ids=["no-token", "unknown-token"],
)
def test_without_a_valid_token_the_answer_is_a_json_401(demo, fake_stripe, token, code):
    response = session_of(demo, token)

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert {"no-store", "private"} <= directives(response)
    assert fake_stripe.requests == []


def test_a_deleted_token_no_longer_works(demo, fake_stripe):
    token = Token.objects.create(user=UserFactory())
    key = token.key
    token.delete()

    response = session_of(demo, key)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_deactivated_users_token_gets_nothing(demo, fake_stripe):
    user = UserFactory()
    key = Token.objects.create(user=user).key
    user.is_active = False
    user.save()

    response = session_of(demo, key)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert fake_stripe.requests == []


def test_the_throttle_counts_each_tokens_user(demo, fake_stripe):
    """The demo keeps the default THROTTLE_RATE, 60 sessions a minute per user."""
    busy, other = (Token.objects.create(user=UserFactory()).key for _ in range(2))
    with requests.Session() as app:
        app.headers["Authorization"] = f"Token {busy}"
        answers = [
            app.post(demo.url + "/api/customer-session/", timeout=60).status_code for _ in range(61)
        ]
        refused = app.post(demo.url + "/api/customer-session/", timeout=60)

    assert answers == [201] * 60 + [429]
    assert refused.json()["code"] == "throttled"
    assert int(refused.headers["Retry-After"]) > 0
    assert session_of(demo, other).status_code == 201


def test_an_app_signs_in_for_a_token_and_attempts_are_throttled(demo, fake_stripe):
    """``/api/token/``: DRF's ``obtain_auth_token`` view, 10 attempts a minute per address."""
    user = UserFactory()
    # Hashed as the demo hashes passwords (the suite's settings use a fast hasher it lacks).
    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save()
    url = demo.url + "/api/token/"

    signed_in = requests.post(
        url, json={"username": user.username, "password": PASSWORD}, timeout=60
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json() == {"token": Token.objects.get(user=user).key}
    assert {"no-store", "private"} <= directives(signed_in)
    assert session_of(demo, signed_in.json()["token"]).status_code == 201

    wrong = [
        requests.post(url, json={"username": user.username, "password": "guess"}, timeout=60)
        for _ in range(10)
    ]
    assert [r.status_code for r in wrong] == [400] * 9 + [429]
    assert wrong[0].json()["code"] == "invalid"
    assert wrong[-1].json()["code"] == "throttled"
    assert "token" not in wrong[0].text


@pytest.mark.parametrize("mode", ["payment", "setup"])
def test_the_checkouts_intent_views_answer_a_token_for_the_same_customer(demo, fake_stripe, mode):
    user = UserFactory()
    token = Token.objects.create(user=user).key

    session = session_of(demo, token, components="mobile_payment_element")
    intent = requests.post(
        f"{demo.url}/checkout/{mode}/intent/",
        headers={"Authorization": f"Token {token}"},
        timeout=60,
    )

    assert intent.status_code == 200, intent.text
    (created,) = fake_stripe.payment_intents if mode == "payment" else fake_stripe.setup_intents
    assert intent.json() == {"client_secret": created["client_secret"]}
    assert created["customer"] == session.json()["customer"]
    assert {"no-store", "private"} <= directives(intent)
