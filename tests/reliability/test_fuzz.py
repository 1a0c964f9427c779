"""The endpoint fuzzed from its own OpenAPI schema, as the demo serves it at /api/schema/.

schemathesis reads the live schema, generates bodies (valid ones, and ones the schema
forbids) in every media type the schema lists, sends them through the site's WSGI
application as a signed-in browser with a CSRF token, and checks each answer: never a 500,
status, content type, headers and body as the schema documents them, and JSON bodies the
schema forbids refused with a 4xx.
"""

from __future__ import annotations

import gzip
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import AsyncClient, Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import negative_data_rejection

from customer_sessions.models import StripeCustomer

from ..factories import StripeCustomerFactory, UserFactory

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
    unknown fields are refused in tests/reliability/test_authorization.py and
    tests/api/test_views.py.
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


# --- hostile bodies -----------------------------------------------------------------------

#: Small limits, so that generated bodies cross them often and stay quick to send.
MEMORY_LIMIT = 2_000
FIELDS_LIMIT = 20
BOUNDARY = "fuzzb0undary"

#: Mostly none; else text encodings, codecs that are not text encodings, made-up names.
charsets = st.sampled_from(
    [None] * 12 + ["utf-8", "UTF8", "utf-16", "latin-1", "utf-7", "zlib", "base64", "rot13", ""]
).flatmap(
    lambda name: (
        st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';"\\'))
        if name == ""
        else st.just(name)
    )
)
nested = st.builds(
    lambda depth, pair: pair[0] * depth + b"1" + pair[1] * depth,
    st.integers(min_value=1, max_value=20_000),
    st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'{"components":', b"}")]),
)
sized = st.integers(min_value=MEMORY_LIMIT - 50, max_value=MEMORY_LIMIT + 50).map(
    lambda n: b'{"components": "' + b"x" * n + b'"}'
)
field = st.tuples(
    st.sampled_from(["components", "csrfmiddlewaretoken", "customer", "f"]),
    st.sampled_from([b"pricing_table", b"", b"\xff\xfe"]) | st.binary(max_size=30),
    st.sampled_from([None] * 5 + ["a.txt", ""]),
)
fields = st.lists(field, max_size=4) | st.integers(FIELDS_LIMIT - 3, FIELDS_LIMIT + 3).flatmap(
    lambda n: st.lists(field, min_size=n, max_size=n)
)


def multipart(parts: list[tuple[str, bytes, str | None]], closed: bool) -> bytes:
    body = b""
    for index, (name, value, filename) in enumerate(parts):
        disposition = f'form-data; name="{name}{index or ""}"'
        disposition += "" if filename is None else f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if closed else b"")


multiparts = st.builds(multipart, fields, st.booleans())
forms = fields.map(lambda parts: b"&".join(n.encode() + b"=" + v for n, v, _ in parts))
payloads = st.one_of(nested, sized, multiparts, forms, st.binary(max_size=3_000))
media_types = st.sampled_from(
    ["application/json"] * 3
    + ["application/x-www-form-urlencoded"] * 3
    + [f"multipart/form-data; boundary={BOUNDARY}"] * 3
    + ["multipart/form-data", "text/plain", ""]
)
#: Mostly none.
headers = st.sampled_from(
    [{}] * 8
    + [{"Content-Encoding": "gzip"}, {"Content-Encoding": "identity"}]
    + [{"Transfer-Encoding": "chunked"}]
)
hostile = st.fixed_dictionaries(
    {"body": payloads, "media_type": media_types, "charset": charsets, "headers": headers}
)


def documented_answers(schema: Any) -> dict[int, set[str]]:
    """Status → the codes its description in the live schema names (in backticks)."""
    responses = schema.raw_schema["paths"][URL]["post"]["responses"]
    return {
        int(status): set(re.findall(r"`([a-z_]+)`", answer.get("description", "")))
        for status, answer in responses.items()
    }


#: Read once, when the schema is: a request through the WSGI handler would close the test's
#: database connection (no_throttle's reason).
ANSWERS = documented_answers(signed_in_schema)


@pytest.fixture
def small_limits(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MEMORY_LIMIT
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = FIELDS_LIMIT
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": None}


@pytest.fixture(params=["sync", "async"])
def endpoint(request: pytest.FixtureRequest, settings: Any) -> str:
    if request.param == "async":
        settings.ROOT_URLCONF = "tests.urls_async"
    return str(request.param)


@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=hostile)
def test_hostile_bodies_get_a_documented_json_error_never_a_500(
    fake_stripe, small_limits, endpoint, request
):
    user = UserFactory(password=None)
    StripeCustomerFactory(user=user, customer_id=fake_stripe.create_customer()["id"])
    sessions_before = len(fake_stripe.customer_sessions)
    content_type = request["media_type"]
    if request["charset"] is not None:
        content_type += f"; charset={request['charset']}"
    body = request["body"]
    if request.get("Content-Encoding") == "gzip":
        body = gzip.compress(body)
    headers = request["headers"]

    if endpoint == "sync":
        client = Client()
        client.force_login(user)
        response = client.generic("POST", URL, body, content_type, headers=headers)
    else:

        async def post() -> Any:
            client = AsyncClient()
            await client.aforce_login(user)
            return await client.generic("POST", URL, body, content_type, headers=headers)

        response = async_to_sync(post)()

    answers = ANSWERS
    assert response.status_code < 500, response.content[:300]
    assert response.status_code in answers, response.status_code
    assert response["Content-Type"] == "application/json"
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    made = fake_stripe.customer_sessions[sessions_before:]
    if response.status_code == 201:
        assert len(made) == 1
        return
    answer = response.json()
    assert set(answer) <= {"code", "detail", "errors"}
    assert answer["code"] in answers[response.status_code], (response.status_code, answer)
    assert made == []
