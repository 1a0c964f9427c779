"""The fault matrix: every way Stripe can fail, through the endpoint, the tag and the Python API.

Each case makes the Stripe double (or the network) fail while a new user asks for their
first session, then checks what a user and an operator would check:

- the endpoint answers the documented status and error code, the page still renders
  (without saved payment methods), the Python API raises the documented exception;
- within the time budget that ``TIMEOUT`` and ``MAX_NETWORK_RETRIES`` allow;
- nothing half-written stays in the database: no row maps a customer Stripe has not
  confirmed;
- a log line says what happened, and no log record anywhere holds the API key;
- once Stripe recovers, the next request succeeds, with exactly one customer for the user.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.template import engines
from django.test import Client, RequestFactory

from customer_sessions import signals
from customer_sessions.exceptions import CustomerSessionError
from customer_sessions.models import ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import acreate_customer_session, create_customer_session
from customer_sessions.testing import FakeStripe

from ..factories import StripeCustomerFactory, UserFactory
from ..servers import free_port

# Transactional: the async API makes a new user's first customer in a thread of its own,
# which must see the committed user.
pytestmark = pytest.mark.django_db(transaction=True)

RETRIES = 1
TIMEOUT = 0.5
#: stripe-python waits 0.5 s (with jitter, never less, here never more) before a retry.
BACKOFF = 0.5
#: Two Stripe calls at most (create the customer, create the session), each tried
#: 1 + RETRIES times, each try cut off after TIMEOUT; plus generous slack for a busy machine.
BUDGET = 2 * ((1 + RETRIES) * TIMEOUT + RETRIES * BACKOFF) + 2.0


@dataclass
class Fault:
    inject: Callable[[FakeStripe, dict[str, Any]], None]
    status: int
    code: str | None
    #: What the log line names: stripe-python's exception class.
    names: str | None
    retry_after: str | None = None
    #: Attempts Stripe executed (the customer may exist) although the app never heard back.
    executed: int = 0
    #: The same through the async API, when it differs (its httpx client retries more).
    executed_async: int = 0


def _refused(fake: FakeStripe, conf: dict[str, Any]) -> None:
    conf["API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there


FAULTS = {
    "500-then-success": Fault(lambda f, c: f.fail_next(500), 201, None, None),
    "500-persistent": Fault(
        lambda f, c: f.fail_next(500, times=None), 503, "stripe_unavailable", "APIError"
    ),
    "429": Fault(
        lambda f, c: f.fail_next(429, times=None, headers={"Retry-After": "3"}),
        503,
        "stripe_rate_limited",
        "RateLimitError",
        retry_after="3",
    ),
    "timeout": Fault(
        lambda f, c: f.delay(TIMEOUT * 3, times=None),
        503,
        "stripe_unavailable",
        "APIConnectionError",
        executed=1 + RETRIES,
    ),
    "connection-refused": Fault(_refused, 503, "stripe_unavailable", "APIConnectionError"),
    "dropped-mid-response": Fault(
        lambda f, c: f.drop_next(times=None, mid_response=True),
        503,
        "stripe_unavailable",
        "APIConnectionError",
        # stripe-python's requests client does not retry a response cut off mid-body;
        # its httpx client (the async API's) retries every network error.
        executed=1,
        executed_async=1 + RETRIES,
    ),
    "401-bad-key": Fault(
        lambda f, c: f.fail_next(401, times=None),
        500,
        "stripe_misconfigured",
        "AuthenticationError",
    ),
    "403-missing-permission": Fault(
        lambda f, c: f.fail_next(403, times=None),
        500,
        "stripe_misconfigured",
        "PermissionError",
    ),
    "malformed-json": Fault(
        lambda f, c: f.malformed_next(times=None), 503, "stripe_unavailable", "APIError"
    ),
}

PAGE = engines["django"].from_string(
    "{% load customer_sessions %}<main>Your basket</main>{% customer_session %}"
)


def through_endpoint(user: Any) -> tuple[int, str | None, str, dict[str, str]]:
    client = Client()
    client.force_login(user)
    response = client.post("/api/customer-session/")
    body = response.json()
    headers = {"Retry-After": response.get("Retry-After", "")}
    return response.status_code, body.get("code"), response.content.decode(), headers


def through_async_endpoint(user: Any) -> tuple[int, str | None, str, dict[str, str]]:
    """``customer_sessions.urls_async``'s view, through Django's ASGI test client."""
    from django.test import AsyncClient, override_settings

    async def post() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await client.post("/api/customer-session/")

    with override_settings(ROOT_URLCONF="tests.urls_async"):
        response = async_to_sync(post)()
    body = response.json()
    headers = {"Retry-After": response.get("Retry-After", "")}
    return response.status_code, body.get("code"), response.content.decode(), headers


def through_tag(user: Any) -> tuple[int, str | None, str, dict[str, str]]:
    request = RequestFactory().get("/checkout/")
    request.user = user
    html = PAGE.render(request=request)
    assert "<main>Your basket</main>" in html  # the page renders, whatever Stripe did
    return (201 if 'id="customer-session"' in html else 0), None, html, {}


def through_python(user: Any) -> tuple[int, str | None, str, dict[str, str]]:
    try:
        session = create_customer_session(user)
    except CustomerSessionError as exc:
        retry = str(exc.retry_after) if exc.retry_after is not None else ""
        return exc.status_code, exc.code, exc.detail, {"Retry-After": retry}
    return 201, None, session.client_secret, {}


def through_async_python(user: Any) -> tuple[int, str | None, str, dict[str, str]]:
    return async_to_sync(_through_async_python)(user)


async def _through_async_python(user: Any) -> tuple[int, str | None, str, dict[str, str]]:
    try:
        session = await acreate_customer_session(user)
    except CustomerSessionError as exc:
        retry = str(exc.retry_after) if exc.retry_after is not None else ""
        return exc.status_code, exc.code, exc.detail, {"Retry-After": retry}
    return 201, None, session.client_secret, {}


SURFACES = {
    "endpoint": through_endpoint,
    "async-endpoint": through_async_endpoint,
    "tag": through_tag,
    "python": through_python,
    "async-python": through_async_python,
}
CALLERS = [(surface, who) for surface in SURFACES for who in ("new-user", "mapped-user")]


def wait_for_requests(fake: FakeStripe, path: str, count: int, timeout: float = 10) -> None:
    """Wait until the double has finished answering ``count`` requests to ``path``."""
    deadline = time.monotonic() + timeout
    while len(fake.requests_to("POST", path)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize(("surface", "who"), CALLERS)
@pytest.mark.parametrize("case", list(FAULTS))
def test_fault(fake_stripe, settings, all_logs, case, who, surface):
    fault = FAULTS[case]
    user = UserFactory(password=None)
    # A new user's first Stripe call creates the customer; a mapped user's creates the
    # session for the customer they already have.
    before: list[tuple[str]] = []
    path = "/v1/customers"
    if who == "mapped-user":
        customer = fake_stripe.create_customer(metadata={"django_user_id": str(user.pk)})["id"]
        StripeCustomerFactory(user=user, customer_id=customer)
        before, path = [(customer,)], "/v1/customer_sessions"
    conf = {**settings.CUSTOMER_SESSIONS, "MAX_NETWORK_RETRIES": RETRIES, "TIMEOUT": TIMEOUT}
    fault.inject(fake_stripe, conf)
    settings.CUSTOMER_SESSIONS = conf
    call = SURFACES[surface]

    start = time.monotonic()
    status, code, shown, headers = call(user)
    seconds = time.monotonic() - start

    assert seconds < BUDGET, f"{seconds:.2f} s > {BUDGET} s"
    if surface == "tag":
        expected = 201 if fault.status == 201 else 0  # the page renders without the secret
        assert status == expected
    else:
        assert (status, code) == (fault.status, fault.code)
        if fault.retry_after:
            assert headers["Retry-After"] == fault.retry_after
        elif status == 503:
            assert int(headers["Retry-After"]) >= 1
    assert fake_stripe.secret_key not in shown

    # Nothing half-written: no mapping to a customer Stripe did not confirm to the app,
    # and a failure never drops or replaces a mapping that exists.
    mapped = list(StripeCustomer.objects.exclude(customer_id="").values_list("customer_id"))
    if fault.status == 201:
        assert mapped == [(fake_stripe.customers[0]["id"],)]
    else:
        assert mapped == before
    assert not ReplacedStripeCustomer.objects.exists()

    # A log line says what happened, for whom, with which outcome; no record has the key.
    records = [r for r in all_logs.records if r.name.startswith("customer_sessions")]
    if fault.names:
        said = [r.getMessage() for r in records if r.levelname in ("WARNING", "ERROR")]
        assert any(
            fault.names in line and fault.code in line and f"user {user.pk}" in line
            for line in said
        ), said
    for record in all_logs.records:
        assert fake_stripe.secret_key not in record.getMessage()
        assert fake_stripe.secret_key not in (record.exc_text or "")

    # Stripe recovers: the very next request succeeds, and the user has one customer.
    executed = fault.executed
    if surface.startswith("async-") and fault.executed_async:
        executed = fault.executed_async
    if executed:  # let the double finish the attempts the app gave up on
        wait_for_requests(fake_stripe, path, executed)
    fake_stripe.clear_faults()
    settings.CUSTOMER_SESSIONS = {**conf, "API_BASE": fake_stripe.url}
    status, code, shown, _ = call(user)
    assert (status, code) == (201, None)
    row = StripeCustomer.objects.get(user=user)
    assert [c["id"] for c in fake_stripe.customers] == [row.customer_id]
    if before:
        assert [(row.customer_id,)] == before
    print("measured:", f"{case}, {who}, via {surface}: {seconds:.2f} s (budget {BUDGET} s)")


# --- the twins agree ------------------------------------------------------------------

_IDS = re.compile(r"\b(?:cus|req|cuss_secret|acct)_[A-Za-z0-9_]+|127\.0\.0\.1:\d+")


def _outcome(fake_stripe, settings, case: str, who: str, create: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What one session attempt under ``case`` did: answer, Stripe's state, logs, signals."""
    fake_stripe.reset()
    user = UserFactory(password=None)
    if who == "mapped-user":
        customer = fake_stripe.create_customer(metadata={"django_user_id": str(user.pk)})["id"]
        StripeCustomerFactory(user=user, customer_id=customer)
    conf = {
        **settings.CUSTOMER_SESSIONS,
        "API_BASE": fake_stripe.url,
        "MAX_NETWORK_RETRIES": RETRIES,
        "TIMEOUT": TIMEOUT,
    }
    FAULTS[case].inject(fake_stripe, conf)
    settings.CUSTOMER_SESSIONS = conf
    sent: list[tuple[str, tuple[Any, ...]]] = []

    def receiver(signal: Any, **kwargs: Any) -> None:
        kept = ("mode", "account", "components", "reason")
        sent.append((signal_names[signal], tuple(kwargs.get(k) for k in kept)))

    signal_names = {getattr(signals, n): n for n in ("customer_created", "session_created")}
    for signal in signal_names:
        signal.connect(receiver)
    logger = logging.getLogger("customer_sessions")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        status, code, _, headers = create(user)
    finally:
        logger.removeHandler(handler)
        for signal in signal_names:
            signal.disconnect(receiver)
    settled = FAULTS[case].executed
    if settled:
        time.sleep(TIMEOUT * 3)  # let the double finish what the app gave up on
    return {
        "answer": (status, code, headers.get("Retry-After")),
        "customers in Stripe": len(fake_stripe.customers),
        "mapped": StripeCustomer.objects.filter(user=user).exclude(customer_id="").count(),
        "log": [
            (r.levelname, _IDS.sub("<id>", r.getMessage()).replace(f"user {user.pk}", "user <pk>"))
            for r in records
            if "did not pass through" not in r.getMessage()
        ],
        "signals": sent,
    }


@pytest.mark.parametrize("who", ["new-user", "mapped-user"])
@pytest.mark.parametrize("case", list(FAULTS))
def test_the_sync_and_async_apis_agree_on_every_fault(fake_stripe, settings, case, who):
    sync = _outcome(fake_stripe, settings, case, who, through_python)
    asynchronous = _outcome(fake_stripe, settings, case, who, through_async_python)
    assert asynchronous == sync
