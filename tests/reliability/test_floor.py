"""The floor the app holds: what one session costs a user who already has a customer.

One Stripe request and one database query of the app per session, through the Python API
(tests/test_sessions.py), the endpoint and the tag; and one TCP connection to Stripe per
worker thread, kept open across sessions.
"""

from __future__ import annotations

import socket
import threading

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from customer_sessions.services import create_customer_session, get_or_create_customer

from ..factories import UserFactory


def app_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if "customer_sessions_" in q["sql"]]


@pytest.mark.django_db
def test_endpoint_costs_one_stripe_request_and_one_app_query(fake_stripe, signed_in, user):
    create_customer_session(user)
    before = len(fake_stripe.requests)

    with CaptureQueriesContext(connection) as queries:
        response = signed_in.post("/api/customer-session/")

    assert response.status_code == 201
    assert [r.path for r in fake_stripe.requests[before:]] == ["/v1/customer_sessions"]
    assert len(app_queries(queries)) == 1, [q["sql"] for q in queries]
    # Everything else is the site's authentication: its session and user rows.
    others = [q["sql"] for q in queries if "customer_sessions_" not in q["sql"]]
    assert all("django_session" in sql or "auth_user" in sql for sql in others), others


@pytest.mark.django_db
def test_tag_costs_one_stripe_request_and_one_query(fake_stripe, user):
    create_customer_session(user)
    before = len(fake_stripe.requests)
    request = RequestFactory().get("/checkout/")
    request.user = user
    template = Template("{% load customer_sessions %}{% customer_session %}")

    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"request": request}))

    assert "cuss_secret_" in html
    assert [r.path for r in fake_stripe.requests[before:]] == ["/v1/customer_sessions"]
    assert len(queries) == 1, [q["sql"] for q in queries]


@pytest.mark.django_db(transaction=True)
def test_one_connection_per_thread_over_100_sessions(fake_stripe):
    users = [UserFactory() for _ in range(4)]
    for user in users:
        get_or_create_customer(user)
    fake_stripe.drop_connections()  # close the connections made so far; count from zero
    start = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def worker(user) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            for _ in range(25):
                create_customer_session(user)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(fake_stripe.customer_sessions) == 100
    assert fake_stripe.connections == len(threads)


@pytest.mark.django_db
def test_the_same_through_the_endpoint_in_one_thread(fake_stripe, user, settings):
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "THROTTLE_RATE": None}
    client = Client()
    client.force_login(user)
    get_or_create_customer(user)
    fake_stripe.drop_connections()

    statuses = {client.post("/api/customer-session/").status_code for _ in range(100)}

    assert statuses == {201}
    assert fake_stripe.connections == 1


def test_the_double_answers_without_nagles_delay(fake_stripe, user):
    """Kept-alive answers leave at once: no ~40 ms wait per request that Stripe never adds."""
    create_customer_session(user)
    server = fake_stripe._server
    assert server is not None
    open_sockets = list(server._open)
    assert open_sockets
    for sock in open_sockets:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
