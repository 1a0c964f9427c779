"""FakeStripe: the double's public face, and the path of one request through its parts.

A request the HTTP server read (:mod:`.http_server`) takes its faults (:mod:`.faults`),
is authenticated (:mod:`.auth`), claims its ``Idempotency-Key`` (:mod:`.idempotency`),
and is answered by its route (:mod:`.routing`, :mod:`.resources`) from what the double
holds (:mod:`.store`, read and seeded by tests through :mod:`.stripe_side`); every request
is recorded (:mod:`.records`).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from . import idempotency
from .auth import authenticate
from .encoding import normalize
from .errors import StripeError, error_body, log_url
from .exchange import Outcome, RawRequest, Request, Response
from .faults import Fault, Faults, fault_response
from .http_server import Handler, Server, family, url_host
from .ids import random_string
from .rate_limits import WriteLimit
from .records import FakeAccount, RecordedRequest
from .routing import dispatch
from .store import Store
from .stripe_side import StripeSide

__all__ = ["FakeStripe"]


class FakeStripe(StripeSide):
    """A Stripe API double over real HTTP on ``host:port`` (``port=0``: any free port)."""

    def __init__(
        self, honour_idempotency: bool = True, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._default_honour = honour_idempotency
        self.honour_idempotency = honour_idempotency
        self.host = host
        self.port = port
        self.secret_key = "sk_test_fake_" + random_string(24)
        self.live_secret_key = "sk_live_fake_" + random_string(24)
        self.publishable_key = "pk_test_fake_" + random_string(24)
        self.live_publishable_key = "pk_live_fake_" + random_string(24)
        #: The Stripe account that every well-formed key belongs to, unless it is a key of
        #: an account made with :meth:`other_account`.
        self.account_id = "acct_" + random_string(16)
        #: Keys answered with 401 "Invalid API Key provided" though well formed.
        self.revoked_keys: set[str] = set()
        #: Seconds a client may take to send the body its Content-Length announced; then
        #: the connection is closed, so a short or trickling body cannot hold a thread.
        self.body_timeout = 10.0
        self._lock = threading.Lock()  # the records and the other accounts' keys
        self._other_accounts: dict[str, str] = {}  # key -> account id
        self._requests: list[RecordedRequest] = []
        self._store = Store()
        self._faults = Faults()
        self._ledger = idempotency.Ledger()
        self._write_limit = WriteLimit()
        # A request belongs to the generation it arrived in; reset() starts a new one, wakes
        # the older requests' delays, waits for them to finish and drops their records, so
        # that a request a test abandoned never lands in the next test's records or objects.
        self._generation = 0
        self._woken = threading.Event()  # set when the current generation ends
        self._in_flight: dict[int, int] = {}  # generation -> requests being handled
        self._settled = threading.Condition(self._lock)
        self._turn = threading.local()  # the generation and wake-up of this thread's request
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def other_account(self) -> FakeAccount:
        """A second Stripe account, with keys of its own (as a key pasted from elsewhere).

        Objects made with its keys live apart from the default account's: each account's
        keys see only its own customers, as two real Stripe accounts do.
        """
        account = FakeAccount(
            id="acct_" + random_string(16),
            secret_key="sk_test_fake_" + random_string(24),
            live_secret_key="sk_live_fake_" + random_string(24),
            publishable_key="pk_test_fake_" + random_string(24),
            live_publishable_key="pk_live_fake_" + random_string(24),
        )
        with self._lock:
            for key in (account.secret_key, account.live_secret_key):
                self._other_accounts[key] = account.id
        return account

    def platform_of(self, api_key: str) -> str:
        """The Stripe account a (well-formed) key belongs to."""
        with self._lock:
            return self._other_accounts.get(api_key, self.account_id)

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> FakeStripe:
        if self._server is not None:
            return self
        self._woken = threading.Event()
        server = Server((self.host, self.port), Handler, family(self.host))
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeStripe:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._woken.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give clients: on a wildcard address (``0.0.0.0``, ``::``), the
        loopback address of this machine, which the server listens on too."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (since start or the last :meth:`reset`)."""
        return self._server.accepted if self._server is not None else 0

    @property
    def open_connections(self) -> int:
        """TCP connections open now: kept alive by clients, or being served."""
        return self._server.open_connections if self._server is not None else 0

    def drop_connections(self) -> None:
        """Close every kept-alive connection and count :attr:`connections` from zero; keep
        everything else (objects, records, faults)."""
        if self._server is not None:
            self._server.close_connections()
            self._server.accepted = 0

    def reset(self) -> None:
        """Forget objects, records, faults and revoked keys; keep the server and its port.

        Requests still being handled (a client that gave up on a delayed answer) are woken,
        given a few seconds to finish, and their records and effects are not kept.
        """
        with self._lock:
            self._generation += 1
            ended, self._woken = self._woken, threading.Event()
            ended.set()
        self.drop_connections()
        with self._settled:
            self._settled.wait_for(
                lambda: not any(n for g, n in self._in_flight.items() if g < self._generation),
                timeout=5,
            )
        self._store.clear()
        self._ledger.clear()
        self._faults.clear()
        with self._lock:
            self._requests = []
        self.revoked_keys.clear()
        self.honour_idempotency = self._default_honour
        self._write_limit.set(None)

    # --- inspection (the objects stored, and seeding them: stripe_side.py) -------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        method = method.upper()
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # --- faults -----------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        error: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next matching requests with ``status`` and a Stripe error body."""
        self._faults.add(
            Fault(
                "fail", times, path, method, status=status, error=error, headers=dict(headers or {})
            )
        )

    def delay(
        self,
        seconds: float,
        *,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Wait ``seconds`` before handling matching requests (holding no lock)."""
        self._faults.add(Fault("delay", times, path, method, seconds=seconds))

    def drop_next(
        self,
        *,
        times: int | None = 1,
        path: str | None = None,
        method: str | None = None,
        mid_response: bool = False,
    ) -> None:
        """Close the connection instead of answering.

        Plain: the request is not executed. ``mid_response=True``: it is executed (and its
        result kept for idempotency, as Stripe would), then the answer is cut off after the
        status line, the headers and part of the body.
        """
        self._faults.add(Fault("drop", times, path, method, mid_response=mid_response))

    def malformed_next(
        self, *, times: int | None = 1, path: str | None = None, method: str | None = None
    ) -> None:
        """Answer 200 with a body that is not JSON (a proxy's error page)."""
        self._faults.add(Fault("malformed", times, path, method))

    def limit_writes(self, per_second: int | None) -> None:
        """Answer writes (``POST``, ``DELETE``) past ``per_second`` in any one second, per
        account and mode, with Stripe's 429 ``rate_limit``, unexecuted; None lifts it.

        Stripe's own limits are 100 per second in live mode and 25 in test mode.
        """
        self._write_limit.set(per_second)

    def clear_faults(self) -> None:
        self._faults.clear()

    # --- one request (called from the server's threads) ----------------------------------

    def handle(self, raw: RawRequest) -> Outcome:
        """Everything between the parsed HTTP request and the bytes answered."""
        with self._lock:
            generation, woken = self._generation, self._woken
            self._in_flight[generation] = self._in_flight.get(generation, 0) + 1
        self._turn.generation, self._turn.woken = generation, woken
        try:
            return self._handle(raw)
        finally:
            with self._settled:
                self._in_flight[generation] -= 1
                if not self._in_flight[generation]:
                    del self._in_flight[generation]
                self._settled.notify_all()

    def _handle(self, raw: RawRequest) -> Outcome:
        delay = self._faults.take_delay(raw.method, raw.path)
        pending_delay = delay.seconds if delay else 0.0
        fault = self._faults.take_fault(raw.method, raw.path)

        if fault is not None and fault.kind == "fail":
            self._sleep(pending_delay)
            response = fault_response(fault, raw, self._authenticated_or_none(raw))
            self._record(raw, response.status, False, response.body)
            return Outcome(response)
        if fault is not None and fault.kind == "malformed":
            self._sleep(pending_delay)
            self._record(raw, 200, False, None)
            return Outcome(Response(200, None), malformed=True)
        if fault is not None and fault.kind == "drop" and not fault.mid_response:
            self._sleep(pending_delay)
            self._record(raw, None, False, None)
            return Outcome(None, drop=True)

        response, replayed = self._execute(raw, pending_delay)
        if fault is not None:  # a mid-response drop: executed, then cut off
            self._record(raw, None, replayed, None)
            return Outcome(response, drop=True, mid_response=True)
        self._record(raw, response.status, replayed, response.body)
        return Outcome(response, replayed=replayed)

    def _execute(self, raw: RawRequest, pending_delay: float) -> tuple[Response, bool]:
        """The answer to ``raw`` and whether it is a replay; waits ``pending_delay`` first."""
        if raw.parse_error is not None:
            self._sleep(pending_delay)
            return self._error_response(raw, raw.parse_error), False
        try:
            request = self._authenticate(raw)
        except StripeError as exc:
            self._sleep(pending_delay)
            return self._error_response(raw, exc), False
        try:
            self._write_limit.spend(raw.method, request.platform, request.livemode)
        except StripeError as exc:
            self._sleep(pending_delay)
            return self._error_response(raw, exc, request), False

        key = request.idempotency_key if raw.method == "POST" else None
        if not self.honour_idempotency or not key:
            self._sleep(pending_delay)
            return self._dispatch(request, raw), False

        slot = idempotency.slot(request, key)
        fingerprint = idempotency.fingerprint(raw)
        earlier = self._ledger.claim(slot, fingerprint, raw.request_id)
        if earlier is not None:
            self._sleep(pending_delay)
            try:
                return earlier.answer(fingerprint, key), True
            except StripeError as exc:
                return self._error_response(raw, exc, request), False
        try:
            self._sleep(pending_delay)
            response = self._dispatch(request, raw)
        except BaseException:
            self._ledger.release(slot)
            raise
        self._ledger.finish(slot, response)
        return response, False

    def _authenticate(self, raw: RawRequest) -> Request:
        return authenticate(raw, revoked=self.revoked_keys, platform_of=self.platform_of)

    def _authenticated_or_none(self, raw: RawRequest) -> Request | None:
        try:
            return self._authenticate(raw)
        except StripeError:
            return None

    def _dispatch(self, request: Request, raw: RawRequest) -> Response:
        try:
            status, body = dispatch(self._store, request)
        except StripeError as exc:
            return self._error_response(raw, exc, request)
        return Response(status, body)

    def _error_response(
        self, raw: RawRequest, exc: StripeError, request: Request | None = None
    ) -> Response:
        url = log_url(
            raw.request_id,
            raw.time,
            livemode=request is not None and request.livemode,
            account=request.account if request is not None else "",
        )
        body = error_body(exc, request_log_url=url, v2=raw.path.startswith("/v2/"))
        return Response(exc.status, body, pre_execution=exc.pre_execution)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._turn.woken.wait(seconds)

    def _record(self, raw: RawRequest, status: int | None, replayed: bool, response: Any) -> None:
        record = RecordedRequest(
            method=raw.method,
            path=raw.path,
            params=normalize(raw.params),
            headers=dict(raw.headers),
            api_key=raw.api_key,
            stripe_account=raw.headers.get("stripe-account"),
            idempotency_key=raw.headers.get("idempotency-key"),
            status=status,
            replayed=replayed,
            time=raw.time,
            request_id=raw.request_id,
            response=copy.deepcopy(response),
        )
        with self._lock:
            if self._turn.generation == self._generation:
                self._requests.append(record)
