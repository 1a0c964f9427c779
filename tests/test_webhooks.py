"""The webhook endpoint, fed real signed payloads (HMAC-SHA256 as Stripe documents it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from customer_sessions import signals
from customer_sessions.models import ProcessedWebhookEvent, ReplacedStripeCustomer, StripeCustomer
from customer_sessions.services import create_customer_session, get_or_create_customer

from .conftest import customer_creates
from .factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "a1b2c3d4" * 4
URL = "/api/webhook/"


def sign(payload: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(
    customer_id: str,
    *,
    type: str = "customer.deleted",  # noqa: A002
    livemode: bool = False,
    account: str | None = None,
    event_id: str | None = None,
) -> str:
    body: dict[str, Any] = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": {"id": customer_id, "object": "customer", "email": "a@example.com"}},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }
    if account is not None:
        body["account"] = account
    return json.dumps(body)


def post(client: Client, payload: str, signature: str | None) -> Any:
    headers = {} if signature is None else {"HTTP_STRIPE_SIGNATURE": signature}
    return client.post(URL, data=payload, content_type="application/json", **headers)


@pytest.fixture
def webhook(fake_stripe) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The app pointed at the Stripe double, with a webhook signing secret."""
    with override_settings(
        CUSTOMER_SESSIONS={**settings.CUSTOMER_SESSIONS, "WEBHOOK_SECRET": SECRET}
    ):
        yield fake_stripe


@pytest.fixture
def mapped(webhook, user):  # type: ignore[no-untyped-def]
    """A user whose customer exists in Stripe (test mode, platform)."""
    return StripeCustomer.objects.get(customer_id=get_or_create_customer(user))


def test_the_endpoint_is_mounted_by_the_app_urls():
    assert reverse("customer_sessions:webhook") == URL


def test_customer_deleted_forgets_the_mapping_and_the_next_session_makes_a_new_customer(
    webhook, mapped, user
):
    old = mapped.customer_id
    webhook.delete_customer(old)  # someone deleted it in the dashboard
    replaced: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        replaced.append(kwargs)

    signals.customer_replaced.connect(receiver)
    try:
        response = post(Client(enforce_csrf_checks=True), payload := event(old), sign(payload))
    finally:
        signals.customer_replaced.disconnect(receiver)

    assert response.status_code == 200, response.content
    assert response.json()["code"] == "processed"
    mapped.refresh_from_db()
    assert mapped.customer_id == ""
    record = ReplacedStripeCustomer.objects.get()
    assert (record.user, record.customer_id, record.reason) == (user, old, "deleted")
    assert [(r["old_customer_id"], r["reason"]) for r in replaced] == [(old, "deleted")]

    session = create_customer_session(user)
    assert session.customer != old
    assert StripeCustomer.objects.get(user=user).customer_id == session.customer
    assert customer_creates(webhook) == 2


def test_a_replayed_event_answers_200_and_changes_nothing(webhook, mapped, user):
    payload = event(mapped.customer_id)
    assert post(Client(), payload, sign(payload)).json()["code"] == "processed"
    new_customer = create_customer_session(user).customer

    # Stripe (or anyone who captured it) sends the same event again, freshly signed.
    response = post(Client(), payload, sign(payload))

    assert response.status_code == 200
    assert response.json()["code"] == "duplicate"
    assert ProcessedWebhookEvent.objects.count() == 1
    assert ReplacedStripeCustomer.objects.count() == 1
    assert StripeCustomer.objects.get(user=user).customer_id == new_customer


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda p: sign(p, secret="whsec_someone_else"), id="other-secret"),
        pytest.param(lambda p: sign(p + " "), id="other-payload"),
        pytest.param(lambda p: None, id="no-header"),
        pytest.param(lambda p: "t=1,v1=", id="garbage"),
        pytest.param(lambda p: sign(p).replace("v1=", "v0="), id="other-scheme"),
    ],
)
def test_a_bad_signature_answers_400_and_changes_nothing(webhook, mapped, signature):
    payload = event(mapped.customer_id)

    response = post(Client(), payload, signature(payload))

    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    mapped.refresh_from_db()
    assert mapped.customer_id.startswith("cus_")
    assert not ReplacedStripeCustomer.objects.exists()
    assert not ProcessedWebhookEvent.objects.exists()


def test_a_signature_older_than_the_tolerance_is_refused(webhook, mapped):
    payload = event(mapped.customer_id)
    stale = sign(payload, timestamp=int(time.time()) - 301)

    assert post(Client(), payload, stale).status_code == 400
    mapped.refresh_from_db()
    assert mapped.customer_id

    conf = {**settings.CUSTOMER_SESSIONS, "WEBHOOK_TOLERANCE": 600}
    with override_settings(CUSTOMER_SESSIONS=conf):
        assert post(Client(), payload, stale).status_code == 200
    mapped.refresh_from_db()
    assert mapped.customer_id == ""


def test_a_signature_from_further_ahead_than_the_tolerance_is_refused(webhook, mapped, caplog):
    payload = event(mapped.customer_id)
    ahead = sign(payload, timestamp=int(time.time()) + 301)

    response = post(Client(), payload, ahead)

    assert (response.status_code, response.json()["code"]) == (400, "bad_signature")
    mapped.refresh_from_db()
    assert mapped.customer_id
    assert not ProcessedWebhookEvent.objects.exists()
    assert any("in the future" in r.getMessage() for r in caplog.records)

    # A clock a little behind Stripe's, within the tolerance, is fine.
    slightly_ahead = sign(payload, timestamp=int(time.time()) + 60)
    assert post(Client(), payload, slightly_ahead).json()["code"] == "processed"


def test_a_signature_with_two_timestamps_is_refused(webhook, mapped):
    payload = event(mapped.customer_id)
    now = int(time.time())
    # Signed for a future time, with the current one added: which one holds is ambiguous.
    two = sign(payload, timestamp=now + 3600) + f",t={now}"

    assert post(Client(), payload, two).status_code == 400
    assert not ProcessedWebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "tolerance", [0, None, -1, "300", True, float("inf"), float("nan")], ids=repr
)
def test_a_tolerance_that_is_not_a_positive_number_refuses_every_event_with_500(
    webhook, mapped, tolerance, caplog
):
    payload = event(mapped.customer_id)
    stale = sign(payload, timestamp=int(time.time()) - 10 * 365 * 24 * 3600)
    conf = {**settings.CUSTOMER_SESSIONS, "WEBHOOK_TOLERANCE": tolerance}

    with override_settings(CUSTOMER_SESSIONS=conf):
        for signature in (sign(payload), stale):
            response = post(Client(), payload, signature)
            assert response.status_code == 500
            assert response["Content-Type"] == "application/json"
            assert response.json()["code"] == "webhook_misconfigured"

    mapped.refresh_from_db()
    assert mapped.customer_id
    assert not ProcessedWebhookEvent.objects.exists()
    assert any("WEBHOOK_TOLERANCE" in r.getMessage() for r in caplog.records)


def test_a_rolled_secret_is_accepted_while_both_are_configured(webhook, mapped):
    new_secret = "whsec_" + "e5f6" * 8
    conf = {**settings.CUSTOMER_SESSIONS, "WEBHOOK_SECRET": [new_secret, SECRET]}
    payload = event(mapped.customer_id)
    with override_settings(CUSTOMER_SESSIONS=conf):
        assert post(Client(), payload, sign(payload, secret=SECRET)).status_code == 200


def test_without_a_signing_secret_every_event_is_refused_with_500(fake_stripe, user):
    mapping = StripeCustomer.objects.get(customer_id=get_or_create_customer(user))
    payload = event(mapping.customer_id)

    response = post(Client(), payload, sign(payload))

    assert response.status_code == 500
    assert response.json()["code"] == "webhook_misconfigured"
    mapping.refresh_from_db()
    assert mapping.customer_id


def test_other_event_types_are_acknowledged_and_ignored(webhook, mapped):
    payload = event(mapped.customer_id, type="customer.updated")

    response = post(Client(), payload, sign(payload))

    assert (response.status_code, response.json()["code"]) == (200, "ignored")
    mapped.refresh_from_db()
    assert mapped.customer_id
    assert not ProcessedWebhookEvent.objects.exists()


def test_an_event_of_the_other_mode_or_account_changes_nothing(webhook, mapped):
    for payload in (
        event(mapped.customer_id, livemode=True),
        event(mapped.customer_id, account="acct_1Other"),
    ):
        assert post(Client(), payload, sign(payload)).status_code == 200
    mapped.refresh_from_db()
    assert mapped.customer_id.startswith("cus_")
    assert not ReplacedStripeCustomer.objects.exists()


def test_a_connected_accounts_event_forgets_that_accounts_mapping_only(webhook, user):
    platform = get_or_create_customer(user)
    connected = get_or_create_customer(user, account="acct_1Connected")
    payload = event(connected, account="acct_1Connected")

    assert post(Client(), payload, sign(payload)).status_code == 200

    rows = dict(StripeCustomer.objects.filter(user=user).values_list("account", "customer_id"))
    assert rows == {"": platform, "acct_1Connected": ""}


def test_signed_deletions_do_not_use_up_the_replacement_limit(webhook, db):
    strict = {**settings.CUSTOMER_SESSIONS, "WEBHOOK_SECRET": SECRET, "REPLACEMENT_LIMIT": 10}
    users = UserFactory.create_batch(14)
    customers = [get_or_create_customer(u) for u in users]
    with override_settings(CUSTOMER_SESSIONS=strict):
        for customer in customers:
            webhook.delete_customer(customer)
            payload = event(customer)
            response = post(Client(), payload, sign(payload))
            assert (response.status_code, response.json()["code"]) == (200, "processed")
        # Each user's next session gets a new customer; nobody is refused.
        for user, old in zip(users, customers, strict=True):
            assert create_customer_session(user).customer != old
    assert ReplacedStripeCustomer.objects.filter(reason="deleted").count() == 14


def test_when_handling_fails_the_event_is_delivered_again(webhook, mapped):
    payload = event(mapped.customer_id)

    def site_receiver_fails(**kwargs: Any) -> None:
        raise RuntimeError("the site's own receiver fails")

    signals.customer_replaced.connect(site_receiver_fails)
    try:
        response = post(Client(), payload, sign(payload))
    finally:
        signals.customer_replaced.disconnect(site_receiver_fails)
    assert (response.status_code, response.json()["code"]) == (500, "not_processed")
    mapped.refresh_from_db()
    assert mapped.customer_id
    assert not ProcessedWebhookEvent.objects.exists()

    # Stripe retries later; by then it is handled.
    assert post(Client(), payload, sign(payload)).json()["code"] == "processed"
    mapped.refresh_from_db()
    assert mapped.customer_id == ""


def test_only_post_is_allowed(webhook):
    assert Client().get(URL).status_code == 405


def test_a_signed_body_that_is_not_json_is_refused(webhook):
    payload = "not json"
    assert post(Client(), payload, sign(payload)).status_code == 400


def test_another_users_mapping_is_untouched(webhook, mapped):
    other = StripeCustomer.objects.get(customer_id=get_or_create_customer(UserFactory()))
    payload = event(mapped.customer_id)
    post(Client(), payload, sign(payload))
    other.refresh_from_db()
    assert other.customer_id.startswith("cus_")


# --- thin events (Accounts v2): v2.core.account.closed ----------------------------------


def thin_event(
    account_id: str,
    *,
    type: str = "v2.core.account.closed",  # noqa: A002
    livemode: bool = False,
    context: str | None = None,
    event_id: str | None = None,
) -> str:
    """A thin event notification's payload, as Stripe sends it to an event destination."""
    body: dict[str, Any] = {
        "id": event_id or "evt_test_" + secrets.token_hex(12),
        "object": "v2.core.event",
        "type": type,
        "livemode": livemode,
        "created": "2026-12-01T12:00:00.000Z",
        "related_object": {
            "id": account_id,
            "type": "v2.core.account",
            "url": f"/v2/core/accounts/{account_id}",
        },
    }
    if context is not None:
        body["context"] = context
    return json.dumps(body)


@pytest.fixture
def account_mapped(webhook, user, settings):  # type: ignore[no-untyped-def]
    """A user whose customer-configured Account exists in Stripe."""
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "CUSTOMER_OBJECT": "account"}
    return StripeCustomer.objects.get(customer_id=get_or_create_customer(user))


def test_account_closed_forgets_the_mapping_and_the_next_session_makes_a_new_account(
    webhook, account_mapped, user, client
):
    old = account_mapped.customer_id
    payload = thin_event(old)

    response = post(client, payload, sign(payload))

    assert (response.status_code, response.json()["code"]) == (200, "processed")
    assert StripeCustomer.objects.get(user=user).customer_id == ""
    record = ReplacedStripeCustomer.objects.get(customer_id=old)
    assert (record.reason, record.customer_object) == ("deleted", "account")
    assert ProcessedWebhookEvent.objects.get().type == "v2.core.account.closed"
    session = create_customer_session(user)
    assert session.customer_account not in (None, old)
    assert len(webhook.requests_to("POST", "/v2/core/accounts")) == 2


def test_a_replayed_thin_event_changes_nothing(webhook, account_mapped, user, client):
    payload = thin_event(account_mapped.customer_id)
    assert post(client, payload, sign(payload)).json()["code"] == "processed"
    get_or_create_customer(user)

    again = post(client, payload, sign(payload))

    assert again.json()["code"] == "duplicate"
    assert StripeCustomer.objects.get(user=user).customer_id != ""


def test_a_thin_event_with_a_bad_signature_is_refused(webhook, account_mapped, client):
    payload = thin_event(account_mapped.customer_id)

    response = post(client, payload, sign(payload, secret="whsec_" + "0" * 32))

    assert (response.status_code, response.json()["code"]) == (400, "bad_signature")
    assert StripeCustomer.objects.get(pk=account_mapped.pk).customer_id != ""


def test_a_closed_connect_account_is_not_a_customer_account(webhook, user, client):
    """The Connect account a user's customer lives on closing forgets nothing, nor does
    an acct_ id mapped as a Customer's connected account."""
    connected = "acct_1Connected000000"
    customer = get_or_create_customer(user, account=connected)
    payload = thin_event(connected)

    response = post(client, payload, sign(payload))

    assert response.status_code == 200
    assert StripeCustomer.objects.get(user=user).customer_id == customer
    assert not ReplacedStripeCustomer.objects.exists()


def test_other_thin_events_are_ignored(webhook, account_mapped, client):
    payload = thin_event(account_mapped.customer_id, type="v2.core.account.updated")

    response = post(client, payload, sign(payload))

    assert (response.status_code, response.json()["code"]) == (200, "ignored")
    assert StripeCustomer.objects.get(pk=account_mapped.pk).customer_id != ""


@pytest.mark.parametrize("missing", ["id", "created", "type"])
def test_a_signed_thin_event_missing_a_field_is_refused_not_a_crash(webhook, client, missing):
    body = json.loads(thin_event("acct_1Whatever000000"))
    del body[missing]
    payload = json.dumps(body)

    response = post(client, payload, sign(payload))

    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    assert not ProcessedWebhookEvent.objects.exists()
