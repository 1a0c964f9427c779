"""The endpoint fuzzed from its own OpenAPI schema, as the demo serves it at /api/schema/.

schemathesis reads the live schema, generates bodies (valid ones, and ones the schema
forbids) in every media type the schema lists, sends them through the site's WSGI
application as a signed-in browser with a CSRF token, and checks each answer: never a 500,
status, content type, headers and body as the schema documents them, and JSON bodies the
schema forbids refused with a 4xx.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import negative_data_rejection

from customer_sessions.models import StripeCustomer

from .factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = 100
URL = "/api/customer-session/"


def live_schema() -> Any:
    """The live schema, as the demo serves it; only the app's endpoint is fuzzed here."""
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).include(path=URL)


signed_in_schema = live_schema()
anonymous_schema = live_schema()


#: The signed-in browser of the running test: (user, cookies), set by ``browser``.
BROWSER: dict[str, Any] = {}


@signed_in_schema.auth(refresh_interval=None)
class SignedInBrowser:
    """The test's user, signed in through Django's session and holding a CSRF token.

    schemathesis knows this is the authentication, so it also tries requests without it
    (and expects a refusal).
    """

    def get(self, case: Any, context: Any) -> dict[str, str] | None:
        return BROWSER.get("cookies")

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        case.cookies = {**(case.cookies or {}), **data}
        case.headers = {**(case.headers or {}), "X-CSRFToken": data[settings.CSRF_COOKIE_NAME]}


@pytest.fixture
def browser(db: Any) -> Iterator[Any]:
    user = UserFactory(password=None)
    client = Client()
    client.force_login(user)
    BROWSER["cookies"] = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: secrets.token_hex(16),
    }
    yield user
    BROWSER.clear()


@pytest.fixture
def no_throttle(settings: Any) -> Iterator[None]:
    # Throttling would answer 429 (documented) to most examples; fuzz the endpoint itself.
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": None}
    # As Django's test client does: a request through the WSGI handler must not close the
    # test's database connection (and with it the test's transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def unsendable_negatives(case: Any) -> list[Any]:
    """Forms: check every answer, but do not require a forbidden form to be refused.

    A form carries text only: a body that is not an object becomes an empty form (valid:
    the body is optional), and field names the transport cannot encode do not always
    arrive, so a "forbidden" form can reach the server as an allowed one. Forms with
    unknown fields are refused in tests/test_authorization.py and tests/test_api.py.
    """
    if case.media_type != "application/json":
        return [negative_data_rejection]
    return []


@signed_in_schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_signed_in_fuzzing_finds_no_500_and_no_answer_off_the_schema(
    case, fake_stripe, no_throttle, browser
):
    sessions_before = len(fake_stripe.customer_sessions)

    response = case.call_and_validate(excluded_checks=unsendable_negatives(case))

    assert response.status_code < 500, response.text
    made = fake_stripe.customer_sessions[sessions_before:]
    if response.status_code == 201:
        body = response.json()
        assert body["customer"] == StripeCustomer.objects.get(user=browser).customer_id
        assert [s["customer"] for s in made] == [body["customer"]]
    else:  # a refused body never reaches Stripe
        assert made == []


@anonymous_schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_anonymous_fuzzing_is_refused_as_documented(case, fake_stripe, no_throttle):
    response = case.call_and_validate()

    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"
    assert fake_stripe.requests == []
