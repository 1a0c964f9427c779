"""What the double's tests share: clients pointed at it, raw HTTP, requests sent together."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Any

import stripe

from customer_sessions.testing import FakeStripe


def as_dict(obj: Any) -> Any:
    """A stripe-python object as plain JSON data: its ``str()``, the same on every major
    the app supports (``to_dict()`` warns as deprecated on 14.x)."""
    return json.loads(str(obj))


PAYMENT_ELEMENT = {
    "payment_element": {
        "enabled": True,
        "features": {"payment_method_save": "enabled", "payment_method_remove": "enabled"},
    }
}


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
