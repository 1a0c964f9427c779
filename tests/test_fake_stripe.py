"""The Stripe double, driven only through stripe-python (and raw HTTP where it can't go).

Plain pytest: nothing here needs Django (run with ``-p no:django`` while settings are absent).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from customer_sessions.testing import FakeStripe

PAYMENT_ELEMENT = {
    "payment_element": {
        "enabled": True,
        "features": {"payment_method_save": "enabled", "payment_method_remove": "enabled"},
    }
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeStripe) -> FakeStripe:
    server.reset()
    return server


def client_for(
    fake: FakeStripe, key: str | None = None, *, retries: int = 0, timeout: float = 5.0, **kw: Any
) -> stripe.StripeClient:
    return stripe.StripeClient(
        key or fake.secret_key,
        base_addresses={"api": fake.url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
        **kw,
    )


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return client_for(fake)


def raw(
    fake: FakeStripe, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# --- customers ------------------------------------------------------------------------


def test_create_retrieve_update_delete_customer(fake, client):
    created = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"django_user_id": "5"}}
    )
    assert created.id.startswith("cus_") and len(created.id) == 18
    assert created.object == "customer"
    assert created.livemode is False
    assert created.metadata.to_dict() == {"django_user_id": "5"}
    for required in ("created", "id", "livemode", "object", "description", "phone", "address"):
        assert required in created

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()

    updated = client.v1.customers.update(
        created.id, params={"email": "lovelace@example.com", "metadata": {"django_user_id": ""}}
    )
    assert updated.email == "lovelace@example.com"
    assert updated.metadata.to_dict() == {}

    deleted = client.v1.customers.delete(created.id)
    assert deleted.to_dict() == {"id": created.id, "object": "customer", "deleted": True}
    assert client.v1.customers.retrieve(created.id).to_dict() == deleted.to_dict()
    assert fake.customers == []


def test_unknown_customer_is_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve("cus_doesnotexist00")
    error = info.value
    assert error.http_status == 404
    assert error.code == "resource_missing"
    assert error.param == "id"
    assert error.user_message == "No such customer: 'cus_doesnotexist00'"
    assert error.error is not None and error.error.type == "invalid_request_error"
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/resource-missing"
    assert error.error.request_log_url.startswith("https://dashboard.stripe.com/test/logs/req_")
    assert error.request_id is not None and error.request_id.startswith("req_")


def test_customer_of_the_other_mode_says_so(fake, client):
    live = client_for(fake, fake.live_secret_key)
    live_customer = live.v1.customers.create(params={"email": "live@example.com"})
    assert live_customer.livemode is True
    test_customer = client.v1.customers.create()

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(live_customer.id)
    assert info.value.user_message == (
        f"No such customer: '{live_customer.id}'; a similar object exists in live mode, "
        "but a test mode key was used to make this request."
    )
    with pytest.raises(stripe.InvalidRequestError) as info:
        live.v1.customers.retrieve(test_customer.id)
    assert info.value.http_status == 404
    assert info.value.user_message == (
        f"No such customer: '{test_customer.id}'; a similar object exists in test mode, "
        "but a live mode key was used to make this request."
    )
    assert {(c["id"], c.livemode) for c in fake.customers} == {
        (live_customer.id, True),
        (test_customer.id, False),
    }


def test_connected_accounts_are_separate(fake, client):
    on_platform = client.v1.customers.create()
    in_shop = client.v1.customers.create(options={"stripe_account": "acct_shop1"})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve(in_shop.id)
    assert info.value.user_message == f"No such customer: '{in_shop.id}'"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(on_platform.id, options={"stripe_account": "acct_shop2"})
    assert client.v1.customers.retrieve(in_shop.id, options={"stripe_account": "acct_shop1"})
    assert {c["id"]: c.account for c in fake.customers} == {
        on_platform.id: "",
        in_shop.id: "acct_shop1",
    }
    assert fake.requests[1].stripe_account == "acct_shop1"


def test_seeding_without_http(fake, client):
    seeded = fake.create_customer(email="seed@example.com", metadata={"k": "v"})
    assert client.v1.customers.retrieve(seeded["id"]).email == "seed@example.com"
    fake.delete_customer(seeded["id"])
    assert client.v1.customers.retrieve(seeded["id"]).deleted is True
    assert fake.requests_to("GET", "/v1/customers/") == fake.requests


# --- customer sessions --------------------------------------------------------------------


def test_customer_session_echoes_every_component(fake, client):
    customer = client.v1.customers.create()
    first = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": PAYMENT_ELEMENT}
    )
    second = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": {"pricing_table": {"enabled": True}}}
    )
    assert first.object == "customer_session"
    assert first.client_secret.startswith("cuss_secret_")
    assert len(first.client_secret) >= len("cuss_secret_") + 40
    assert first.client_secret != second.client_secret
    assert first.expires_at == first.created + 1800
    assert first.customer == customer.id and first.livemode is False
    components = first.components.to_dict()
    assert set(components) == {
        "buy_button",
        "customer_sheet",
        "mobile_payment_element",
        "payment_element",
        "pricing_table",
        "active_entitlements",
        "customer_portal",
    }
    assert components["pricing_table"] == {"enabled": False}
    assert components["customer_sheet"] == {"enabled": False, "features": None}
    assert components["payment_element"]["enabled"] is True
    assert components["payment_element"]["features"]["payment_method_save"] == "enabled"
    assert second.components.pricing_table.enabled is True
    assert [s["client_secret"] for s in fake.customer_sessions] == [
        first.client_secret,
        second.client_secret,
    ]
    assert fake.requests[1].params["components"]["payment_element"]["features"] == {
        "payment_method_save": "enabled",
        "payment_method_remove": "enabled",
    }


def test_newer_components_are_accepted(client):
    customer = client.v1.customers.create()
    session = client.v1.customer_sessions.create(
        params={"customer": customer.id, "components": {"customer_portal": {"enabled": True}}}
    )
    assert session.components.customer_portal.enabled is True


@pytest.mark.parametrize("deleted", [False, True])
def test_session_for_missing_customer(fake, client, deleted):
    if deleted:
        customer_id = client.v1.customers.create().id
        client.v1.customers.delete(customer_id)
    else:
        customer_id = "cus_nobodyhere123"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer_id, "components": PAYMENT_ELEMENT}
        )
    assert info.value.http_status == 400
    assert info.value.code == "resource_missing"
    assert info.value.param == "customer"
    assert info.value.user_message == f"No such customer: '{customer_id}'"
    assert fake.customer_sessions == []


def test_unknown_parameter(client):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={
                "customer": customer.id,
                "components": {"payment_element": {"enabled": True, "foo": "bar"}},
            }
        )
    assert info.value.http_status == 400
    assert info.value.code == "parameter_unknown"
    assert info.value.param == "components[payment_element][foo]"
    assert info.value.user_message == "Received unknown parameter: components[payment_element][foo]"
    assert info.value.error.type == "invalid_request_error"


def test_missing_components(client):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(params={"customer": customer.id})  # type: ignore[typeddict-item]
    assert (info.value.code, info.value.param) == ("parameter_missing", "components")
    assert info.value.user_message == "Missing required param: components."


def test_no_component_enabled(client):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": {"buy_button": {"enabled": False}}}
        )
    assert info.value.http_status == 400
    assert info.value.param == "components"


@pytest.mark.parametrize(
    ("components", "param", "message", "code"),
    [
        (
            {"payment_element": {"enabled": True, "features": {"payment_method_save": "yes"}}},
            "components[payment_element][features][payment_method_save]",
            "Invalid components[payment_element][features][payment_method_save]: "
            "must be one of disabled or enabled",
            None,
        ),
        (
            {"payment_element": {"enabled": "yes"}},
            "components[payment_element][enabled]",
            "Invalid boolean: yes",
            None,
        ),
        (
            {
                "payment_element": {
                    "enabled": True,
                    "features": {"payment_method_redisplay_limit": "abc"},
                }
            },
            "components[payment_element][features][payment_method_redisplay_limit]",
            "Invalid integer: abc",
            "parameter_invalid_integer",
        ),
    ],
)
def test_invalid_values(client, components, param, message, code):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": components}
        )
    assert (info.value.http_status, info.value.param) == (400, param)
    assert info.value.user_message == message
    assert info.value.code == code


def test_empty_string_where_not_allowed(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.create(params={"email": ""})
    assert (info.value.code, info.value.param) == ("parameter_invalid_empty", "email")
    assert info.value.user_message.startswith("You passed an empty string for 'email'.")
    # …while metadata="" is Stripe's way of unsetting it.
    assert client.v1.customers.create(params={"metadata": ""}).metadata.to_dict() == {}  # type: ignore[typeddict-item]


def test_bracket_arrays_and_query_strings(fake):
    status, _, body = raw(
        fake,
        "POST",
        "/v1/customers",
        "preferred_locales[]=en&preferred_locales[]=fr&expand[0]=tax",
        {"Authorization": f"Bearer {fake.secret_key}"},
    )
    assert status == 200
    assert json.loads(body)["preferred_locales"] == ["en", "fr"]
    customer_id = json.loads(body)["id"]
    status, _, body = raw(
        fake,
        "GET",
        f"/v1/customers/{customer_id}?expand[]=tax&bogus=1",
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    assert status == 400
    assert json.loads(body)["error"]["param"] == "bogus"
    assert fake.requests[-1].params == {"expand": ["tax"], "bogus": "1"}


# --- payment and setup intents --------------------------------------------------------------


def test_payment_and_setup_intents(client):
    customer = client.v1.customers.create()
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1099,
            "currency": "eur",
            "customer": customer.id,
            "automatic_payment_methods": {"enabled": True},
            "setup_future_usage": "off_session",
        }
    )
    assert intent.id.startswith("pi_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.status == "requires_payment_method"
    assert client.v1.payment_intents.retrieve(intent.id).amount == 1099
    setup = client.v1.setup_intents.create(params={"customer": customer.id})
    assert setup.id.startswith("seti_") and setup.client_secret.startswith(f"{setup.id}_secret_")
    assert client.v1.setup_intents.retrieve(setup.id).customer == customer.id

    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 0, "currency": "eur"})
    assert (info.value.code, info.value.param) == ("parameter_invalid_integer", "amount")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "euro"})
    assert info.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "eur", "tip": 1})  # type: ignore[typeddict-unknown-key]
    assert (info.value.code, info.value.param) == ("parameter_unknown", "tip")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.setup_intents.create(params={"customer": "cus_missing0000000"})
    assert (info.value.code, info.value.param) == ("resource_missing", "customer")


def test_unknown_path(fake):
    status, headers, body = raw(
        fake, "GET", "/v1/foo", headers={"Authorization": f"Bearer {fake.secret_key}"}
    )
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert headers["request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/foo).")


# --- authentication -------------------------------------------------------------------


def test_no_api_key(fake):
    status, headers, body = raw(fake, "POST", "/v1/customers", "email=a%40b.c")
    assert status == 401
    assert headers["request-id"].startswith("req_")
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")
    assert fake.customers == []


@pytest.mark.parametrize(
    "key", ["sk_test_abcd efgh1234", "not_a_key_1234", "sk_prod_12345678", "pk_test_12345678"]
)
def test_bad_keys(fake, key):
    with pytest.raises(stripe.AuthenticationError) as info:
        client_for(fake, key).v1.customers.create()
    assert info.value.http_status == 401
    assert info.value.error.type == "invalid_request_error"
    if key.startswith("pk_"):
        assert "publishable API key" in info.value.user_message
    else:
        assert info.value.user_message.startswith("Invalid API Key provided: ")
        assert info.value.user_message.endswith(key[-4:])
        assert key not in info.value.user_message
    assert fake.customers == []


def test_revoked_key(fake):
    client = client_for(fake)
    client.v1.customers.create()
    fake.revoked_keys.add(fake.secret_key)
    with pytest.raises(stripe.AuthenticationError) as info:
        client.v1.customers.create()
    masked = "sk_test_" + "*" * (len(fake.secret_key) - 12) + fake.secret_key[-4:]
    assert info.value.user_message == f"Invalid API Key provided: {masked}"
    assert len(fake.customers) == 1


def test_restricted_keys_are_accepted(fake):
    customer = client_for(fake, "rk_live_restricted123").v1.customers.create()
    assert customer.livemode is True


# --- idempotency ----------------------------------------------------------------------


def test_idempotent_replay(fake, client):
    options: Any = {"idempotency_key": "user-5-customer"}
    first = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    again = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert [r.replayed for r in fake.requests] == [False, True]
    assert len(fake.customers) == 1


def test_idempotency_key_with_other_params(fake, client):
    options: Any = {"idempotency_key": "k1"}
    client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert info.value.http_status == 400
    assert info.value.error.type == "idempotency_error"
    assert info.value.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with. Try using a key other than 'k1' if you meant to execute a "
        "different request."
    )
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(options=options)  # no params is different too
    # …and so is another path.
    customer = client.v1.customers.create()
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": PAYMENT_ELEMENT}, options=options
        )


def test_idempotency_keys_are_per_mode_and_account(fake, client):
    options: Any = {"idempotency_key": "same"}
    a = client.v1.customers.create(options=options)
    b = client.v1.customers.create(options={**options, "stripe_account": "acct_x"})
    c = client_for(fake, fake.live_secret_key).v1.customers.create(options=options)
    assert len({a.id, b.id, c.id}) == 3


def test_validation_errors_are_not_remembered(fake, client):
    options: Any = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(params={"email": ""}, options=options)
    assert client.v1.customers.create(params={"email": "ok@example.com"}, options=options)


def test_honour_idempotency_false_executes_every_post(fake, client):
    fake.honour_idempotency = False
    options: Any = {"idempotency_key": "ignored"}
    first = client.v1.customers.create(options=options)
    second = client.v1.customers.create(options=options)
    assert first.id != second.id
    assert len(fake.customers) == 2
    fake.reset()
    assert fake.honour_idempotency is True
    assert FakeStripe(honour_idempotency=False).honour_idempotency is False


def run_together(n: int, target: Any) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_requests_with_one_key_make_one_customer(fake):
    fake.delay(0.3, path="/v1/customers", method="POST")
    clients = [client_for(fake) for _ in range(4)]

    def create(i: int) -> str:
        options: Any = {"idempotency_key": "contended"}
        return str(clients[i].v1.customers.create(options=options).id)

    results = run_together(4, create)

    assert len(fake.customers) == 1
    winner = fake.customers[0]["id"]
    for result in results:
        if isinstance(result, Exception):
            assert isinstance(result, stripe.APIError)
            assert result.http_status == 409
            assert result.error.code == "idempotency_key_in_use"
            assert result.error.type == "idempotency_error"
        else:
            assert result == winner
    assert any(isinstance(result, Exception) for result in results)


def test_delay_lets_concurrent_creates_overlap(fake):
    fake.honour_idempotency = False
    fake.delay(0.3, path="/v1/customers", method="POST")
    clients = [client_for(fake) for _ in range(5)]
    started = time.monotonic()
    run_together(5, lambda i: clients[i].v1.customers.create())
    assert time.monotonic() - started < 1.2
    assert len(fake.customers) == 5


# --- faults ---------------------------------------------------------------------------


def test_fail_next_500(fake, client):
    fake.fail_next(500)
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create()
    assert info.value.http_status == 500
    assert info.value.error.type == "api_error"
    assert fake.customers == []
    assert client.v1.customers.create()
    assert [r.status for r in fake.requests] == [500, 200]


def test_fail_next_429_with_headers(fake, client):
    fake.fail_next(429, headers={"Retry-After": "7"}, path="/v1/customer_sessions")
    customer = client.v1.customers.create()
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customer_sessions.create(
            params={"customer": customer.id, "components": PAYMENT_ELEMENT}
        )
    assert info.value.http_status == 429
    assert info.value.error.code == "rate_limit"
    assert info.value.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (401, stripe.AuthenticationError),
        (402, stripe.CardError),
        (403, stripe.PermissionError),
        (503, stripe.APIError),
    ],
)
def test_fail_next_other_statuses(client, fake, status, exception):
    fake.fail_next(status)
    with pytest.raises(exception) as info:
        client.v1.customers.create()
    assert info.value.http_status == status


def test_fail_next_custom_error_times_and_method(fake, client):
    customer = client.v1.customers.create()
    fake.fail_next(
        400,
        error={"type": "invalid_request_error", "code": "custom", "message": "Nope."},
        times=None,
        method="GET",
    )
    for _ in range(3):
        with pytest.raises(stripe.InvalidRequestError) as info:
            client.v1.customers.retrieve(customer.id)
        assert (info.value.code, info.value.user_message) == ("custom", "Nope.")
    assert client.v1.customers.create()  # POSTs are untouched
    fake.clear_faults()
    assert client.v1.customers.retrieve(customer.id).id == customer.id


def test_retries_after_500_reuse_the_idempotency_key(fake):
    fake.fail_next(500, path="/v1/customers")
    customer = client_for(fake, retries=2).v1.customers.create(params={"email": "r@example.com"})
    attempts = fake.requests_to("POST", "/v1/customers")
    assert [r.status for r in attempts] == [500, 200]
    assert attempts[0].idempotency_key is not None
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert [c["id"] for c in fake.customers] == [customer.id]


def test_stripe_should_retry_false_stops_retries(fake):
    fake.fail_next(503, headers={"Stripe-Should-Retry": "false"})
    with pytest.raises(stripe.APIError):
        client_for(fake, retries=2).v1.customers.create()
    assert len(fake.requests) == 1


def test_drop_next(fake, client):
    fake.drop_next(path="/v1/customers")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create()
    assert fake.customers == []
    assert fake.requests[0].status is None
    assert client.v1.customers.create()


def test_drop_mid_response_then_replay(fake, client):
    fake.drop_next(mid_response=True)
    options: Any = {"idempotency_key": "lost-answer"}
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create(options=options)
    assert len(fake.customers) == 1  # it was created; only the answer was lost
    again = client.v1.customers.create(options=options)
    assert again.id == fake.customers[0]["id"]
    assert [(r.status, r.replayed) for r in fake.requests] == [(None, False), (200, True)]


def test_delay_past_the_client_timeout(fake):
    fake.delay(1.0, times=1)
    with pytest.raises(stripe.APIConnectionError):
        client_for(fake, timeout=0.3).v1.customers.create()
    assert client_for(fake, timeout=0.3).v1.customers.create()


def test_malformed_next(fake, client):
    fake.malformed_next()
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create()
    assert info.value.http_status == 200
    assert "Invalid response body" in str(info.value)


# --- HTTP behaviour and records ---------------------------------------------------------


def test_connections_are_kept_alive(fake, client):
    for _ in range(20):
        client.v1.customers.create()
    assert fake.connections == 1


def test_recorded_requests(fake, client):
    customer = client.v1.customers.create(
        params={"metadata": {"django_user_id": "5"}},
        options={"stripe_account": "acct_1", "idempotency_key": "ik"},
    )
    record = fake.requests[0]
    assert (record.method, record.path, record.status, record.replayed) == (
        "POST",
        "/v1/customers",
        200,
        False,
    )
    assert record.params == {"metadata": {"django_user_id": "5"}}
    assert record.api_key == fake.secret_key
    assert record.stripe_account == "acct_1"
    assert record.idempotency_key == "ik"
    assert record.headers["idempotency-key"] == "ik"
    assert record.response["id"] == customer.id
    assert record.time <= time.time()
    assert fake.requests_to("post", "/v1/cust") == [record]
    assert fake.requests_to("GET") == []


def test_reset_keeps_the_port(fake):
    url = fake.url
    fake.create_customer()
    fake.fail_next(500)
    fake.reset()
    assert fake.url == url
    assert fake.customers == fake.requests == []
    assert client_for(fake).v1.customers.create()


def test_stop_and_context_manager():
    with FakeStripe() as fake:
        url = fake.url
        assert fake.secret_key.startswith("sk_test_fake_")
        assert fake.live_secret_key.startswith("sk_live_fake_")
        assert fake.publishable_key.startswith("pk_test_")
        client_for(fake).v1.customers.create()
    with pytest.raises(stripe.APIConnectionError):
        stripe.StripeClient(
            "sk_test_x", base_addresses={"api": url}, max_network_retries=0
        ).v1.customers.create()


def test_plugin_fixture(fake_stripe):
    assert fake_stripe.requests == []
    customer = client_for(fake_stripe).v1.customers.create()
    assert fake_stripe.customers[0]["id"] == customer.id


# --- bounded request bodies -------------------------------------------------------------------


def exchange(fake: FakeStripe, head: str, body: bytes = b"", wait: float = 5.0) -> bytes:
    """Send ``head`` (and ``body``) on a raw socket that stays open; what the double answers
    until it closes the connection. A handler that blocked would time this out."""
    with socket.create_connection(("127.0.0.1", fake.port), timeout=wait) as sock:
        request = (
            f"POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {fake.secret_key}\r\n"
        )
        sock.sendall((request + head + "\r\n").encode() + body)
        answer = b""
        while chunk := sock.recv(65536):  # raises TimeoutError if the double never closes
            answer += chunk
        return answer


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: abc\r\n", 400),
        ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        (f"Content-Length: {10**12}\r\n", 413),
        ("Transfer-Encoding: chunked\r\n", 411),
    ],
    ids=["negative", "not-a-number", "two-lengths", "oversized", "chunked"],
)
def test_a_bad_content_length_is_refused_and_the_connection_closed(fake, header, status):
    started = time.monotonic()

    answer = exchange(fake, header)

    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:80]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["type"] == "invalid_request_error"
    assert time.monotonic() - started < 2
    assert fake.requests == []
    assert client_for(fake).v1.customers.create()  # the double serves on


def test_a_body_shorter_than_announced_is_given_up_after_the_body_timeout(fake):
    fake.body_timeout = 0.3
    started = time.monotonic()
    try:
        answer = exchange(fake, "Content-Length: 100\r\n", b"email=a")
    finally:
        fake.body_timeout = 10.0

    assert answer == b""  # nothing to answer: the request never arrived whole
    assert 0.3 <= time.monotonic() - started < 3
    assert fake.requests == []
    assert client_for(fake).v1.customers.create()


def test_a_trickling_body_is_given_up_after_the_body_timeout_in_all(fake):
    fake.body_timeout = 0.5
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
            sock.sendall(b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            closed = False
            for _ in range(40):  # a byte every 0.1 s: each read is quick, the body never ends
                try:
                    sock.sendall(b"x")
                except OSError:
                    closed = True
                    break
                time.sleep(0.1)
            if not closed:
                try:
                    closed = sock.recv(1) == b""
                except ConnectionResetError:
                    closed = True
    finally:
        fake.body_timeout = 10.0

    assert closed
    assert time.monotonic() - started < 3
    assert fake.requests == []


def test_a_body_of_the_largest_size_is_read(fake):
    from customer_sessions.testing.server import MAX_BODY

    body = "description=" + "x" * (MAX_BODY - len("description="))
    key = {"Authorization": f"Bearer {fake.secret_key}"}

    status, _, answer = raw(fake, "POST", "/v1/customers", body, key)

    # Read and validated (Stripe's own limit on a description answers), not refused unread.
    assert status == 400
    assert json.loads(answer)["error"]["param"] == "description"
    assert [r.path for r in fake.requests] == ["/v1/customers"]


# --- run by hand: python -m customer_sessions.testing ----------------------------------------


@contextlib.contextmanager
def run_double(*args: str) -> Iterator[tuple[list[str], subprocess.Popen[str]]]:
    """``python -m customer_sessions.testing`` with ``args``: the lines it printed, and it."""
    process = subprocess.Popen(  # noqa: S603 - this interpreter, the package's own module
        [sys.executable, "-m", "customer_sessions.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "the double printed nothing within 20 s"
        lines = [process.stdout.readline().rstrip("\n")]
        while not lines[-1].startswith("Any well-formed"):  # printed at once, then flushed
            lines.append(process.stdout.readline().rstrip("\n"))
        yield lines, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def printed(lines: list[str], label: str) -> list[str]:
    return [line.split("=", 1)[1].strip() for line in lines if line.strip().startswith(label)]


def test_by_hand_on_every_interface_warns_and_prints_urls_a_client_can_use():
    with run_double("--host", "0.0.0.0") as (lines, process):  # noqa: S104 - the case tested
        (api_base,) = printed(lines, "API_BASE")
        (key,) = printed(lines, "SECRET_KEY")
        assert api_base.startswith("http://127.0.0.1:")
        customer = stripe.StripeClient(
            key, base_addresses={"api": api_base}, max_network_retries=0
        ).v1.customers.create()
        assert customer.id.startswith("cus_")
        elsewhere = printed(lines, "from elsewhere")
        assert elsewhere and all(url.endswith(api_base.rsplit(":", 1)[1]) for url in elsewhere)
        assert not any("0.0.0.0" in url for url in [api_base, *elsewhere])  # noqa: S104
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "WARNING: the Stripe double has no authentication" in errors


def test_by_hand_on_loopback_says_nothing_of_authentication():
    with run_double() as (lines, process):
        assert lines[0].startswith("Fake Stripe listening on http://127.0.0.1:")
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "WARNING" not in errors


def test_an_ipv6_host_gets_a_bracketed_url():
    try:
        fake = FakeStripe(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        assert fake.url == f"http://[::1]:{fake.port}"
        assert client_for(fake).v1.customers.create().id.startswith("cus_")
    finally:
        fake.stop()
