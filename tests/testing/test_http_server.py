"""HTTP plumbing (``http_server.py``): kept-alive connections, bounded bodies, the URL."""

from __future__ import annotations

import json
import socket
import time

import pytest
import stripe

from customer_sessions.testing import FakeStripe

from .helpers import client_for, exchange, raw


def test_connections_are_kept_alive(fake, client):
    for _ in range(20):
        client.v1.customers.create()
    assert fake.connections == 1


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


def test_dropped_connections_are_counted_anew_and_nothing_else_is_lost(fake, client):
    customer = client.v1.customers.create()
    fake.fail_next(503, method="DELETE")
    assert fake.connections == 1

    fake.drop_connections()

    assert fake.connections == 0
    assert client.v1.customers.retrieve(customer.id).id == customer.id  # a new connection
    assert fake.connections == 1
    with pytest.raises(stripe.APIError):  # the fault is still there
        client.v1.customers.delete(customer.id)
    assert [r.status for r in fake.requests] == [200, 200, 503]


def test_a_wildcard_host_is_reached_at_the_loopback_address():
    with FakeStripe(host="0.0.0.0") as fake:  # noqa: S104 - the case tested
        assert fake.url == f"http://127.0.0.1:{fake.port}"
        assert client_for(fake).v1.customers.create().id.startswith("cus_")
