"""HTTP plumbing: the threaded server, bodies read within bounds, answers as Stripe sends them.

The handler reads a request into a :class:`~.exchange.RawRequest`, hands it to the
double (anything with ``handle()`` and ``body_timeout``: :class:`~.double.FakeStripe`)
and writes the :class:`~.exchange.Outcome` back: whole, cut off after part of the body,
as an HTML error page, or not at all. The server counts the connections it accepted and
can close the kept-alive ones.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from .auth import api_key_from
from .encoding import parse_form
from .errors import ParamError
from .exchange import Outcome, RawRequest
from .ids import random_string

__all__ = ["LOOPBACK", "MAX_BODY", "Api", "Handler", "Server", "family", "url_host"]

#: The largest request body the double reads. Stripe's form bodies are a few kilobytes; a
#: larger (or negative, or non-numeric) Content-Length is refused before anything is read.
MAX_BODY = 1024 * 1024

#: Wildcard addresses, and the loopback address a client on this machine reaches them at.
LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


def family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def url_host(host: str) -> str:
    """The host part of the URL clients on this machine use for a server on ``host``."""
    host = LOOPBACK.get(host, host)
    return f"[{host}]" if ":" in host else host


def _parse_body(body: str, content_type: str) -> dict[str, Any]:
    """A request body: JSON (the v2 API's, ``application/json``) or a form (v1's)."""
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return parse_form(body)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise ParamError("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise ParamError("The request body must be a JSON object.")
    return parsed


class Api(Protocol):
    """What the handler needs of the double."""

    body_timeout: float

    def handle(self, raw: RawRequest) -> Outcome: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: Api

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        family: socket.AddressFamily = socket.AF_INET,
    ) -> None:
        #: TCP connections accepted (since start, or since :meth:`close_connections` reset).
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.address_family = family
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self.accepted += 1
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    @property
    def open_connections(self) -> int:
        with self._open_lock:
            return len(self._open)

    def close_connections(self) -> None:
        """Close every kept-alive connection, so clients reconnect (and count anew)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hung up is not the server's problem."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeStripe/1.0"
    sys_version = ""
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, adding ~40 ms to every kept-alive request (Stripe adds none).
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """No per-request logging."""

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def _body(self) -> bytes | None:
        """The request body, or None when the request was refused or the client went away.

        Bounded: a Content-Length that is not a number of at most :data:`MAX_BODY` bytes is
        refused (400, 413) without reading, a chunked body too (411: Stripe's clients send
        Content-Length), and a body that has not arrived whole ``body_timeout`` seconds
        after its headers closes the connection.
        """
        if "Transfer-Encoding" in self.headers:
            self._refuse(411, "Send the request body with a Content-Length header.")
            return None
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or ["0"]}
        announced = lengths.pop() if len(lengths) == 1 else ",".join(sorted(lengths))
        if not announced.isascii() or not announced.isdigit():
            self._refuse(400, f"Invalid Content-Length header: {announced[:40]!r}.")
            return None
        length = int(announced)
        if length > MAX_BODY:
            self._refuse(413, f"The request body is larger than {MAX_BODY} bytes.")
            return None
        body = b""
        deadline = time.monotonic() + self.server.fake.body_timeout
        try:
            while len(body) < length and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)  # for the whole body, not each read
                chunk = self.rfile.read1(length - len(body))
                if not chunk:
                    break
                body += chunk
        except TimeoutError:
            pass
        finally:
            self.connection.settimeout(None)
        if len(body) < length:  # too slow, or gone: the stream is out of step now
            self.close_connection = True
            return None
        return body

    def _refuse(self, status: int, message: str) -> None:
        """A Stripe-shaped error before the request is read; the connection then closes."""
        payload = json.dumps(
            {"error": {"message": message, "type": "invalid_request_error"}}, indent=2
        ).encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _serve(self) -> None:
        arrived = time.time()
        raw_body = self._body()
        if raw_body is None:
            return
        body = raw_body.decode("utf-8", "replace")
        split = urlsplit(self.path)
        path = re.sub(r"/{2,}", "/", split.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        parse_error: ParamError | None = None
        try:
            params = parse_form(split.query)
            if body and self.command not in ("GET",):
                params.update(_parse_body(body, headers.get("content-type", "")))
        except ParamError as exc:
            params, parse_error = {}, exc
        raw = RawRequest(
            method=self.command,
            path=path,
            params=params,
            headers=headers,
            api_key=api_key_from(headers.get("authorization")),
            time=arrived,
            request_id="req_" + random_string(14),
            parse_error=parse_error,
        )
        self._answer(raw, self.server.fake.handle(raw))

    def _answer(self, raw: RawRequest, outcome: Outcome) -> None:
        if outcome.drop and not outcome.mid_response:
            self.close_connection = True
            return
        response = outcome.response
        assert response is not None
        if outcome.malformed:
            payload = b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
            content_type = "text/html"
        else:
            payload = (json.dumps(response.body, indent=2) + "\n").encode("utf-8")
            content_type = "application/json"
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", raw.request_id)
        self.send_header("Cache-Control", "no-cache, no-store")
        if "stripe-version" in raw.headers:
            self.send_header("Stripe-Version", raw.headers["stripe-version"])
        if raw.method == "POST" and "idempotency-key" in raw.headers:
            self.send_header("Idempotency-Key", raw.headers["idempotency-key"])
        for name, value in response.headers.items():
            self.send_header(name, value)
        if outcome.mid_response:
            self.end_headers()
            self.wfile.write(payload[: max(1, len(payload) // 3)])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
