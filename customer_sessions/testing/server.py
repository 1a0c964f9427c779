"""A Stripe double: a real HTTP server on 127.0.0.1 that stripe-python talks to unchanged.

Point a client at it with ``stripe.StripeClient(fake.secret_key,
base_addresses={"api": fake.url})``. It keeps customers, Customer Sessions,
PaymentIntents and SetupIntents per mode (test or live, from the key) and per connected
account (``Stripe-Account``), validates form bodies against Stripe's OpenAPI request
schemas, answers errors in Stripe's shape, honours ``Idempotency-Key`` the way Stripe does,
records every request and can be told to fail, stall, drop or garble the next ones.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import json
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from . import schema
from .schema import ParamError

__all__ = ["FakeAccount", "FakeStripe", "RecordedRequest", "StoredObject"]

_ALNUM = string.ascii_letters + string.digits
_KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]+$")
_KEY_PREFIX = re.compile(r"^(sk|rk|pk)_(test|live)_")
_CURRENCY = re.compile(r"^[a-z]{3}$")

SESSION_LIFETIME = 30 * 60
#: The largest request body the double reads. Stripe's form bodies are a few kilobytes; a
#: larger (or negative, or non-numeric) Content-Length is refused before anything is read.
MAX_BODY = 1024 * 1024
_PREFIXES = {"customer": "cus_", "payment_intent": "pi_", "setupintent": "seti_"}
DOCS = "https://stripe.com/docs/error-codes/"

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
PUBLISHABLE_KEY = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with. Try using a key other than '{key}' if you meant to execute a different request."
)
IDEMPOTENCY_IN_USE = (
    "There is currently another in-progress request using this Idempotent Key (that probably "
    "means you submitted twice, and the other request is still going through): {key}. "
    "Please try again later."
)


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _now() -> int:
    return int(time.time())


def mask_key(key: str) -> str:
    """``sk_test_****…abcd``: Stripe shows the prefix and the last four characters only."""
    match = _KEY_PREFIX.match(key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


# --- public value types -------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the double received, and what it answered."""

    method: str
    path: str
    #: Query string (GET/DELETE) or form body (POST), parsed and nested; arrays as lists.
    params: dict[str, Any]
    #: Request headers with lower-cased names.
    headers: dict[str, str]
    api_key: str | None
    stripe_account: str | None
    idempotency_key: str | None
    #: The status answered; ``None`` when the connection was dropped instead.
    status: int | None
    #: True when the answer was an idempotent replay of an earlier response.
    replayed: bool
    #: ``time.time()`` when the request arrived.
    time: float
    request_id: str = ""
    #: The JSON body answered (``None`` for dropped or malformed answers).
    response: Any = None

    @property
    def livemode(self) -> bool | None:
        if self.api_key is None:
            return None
        return "_live_" in self.api_key[:8]


class StoredObject(dict[str, Any]):
    """A copy of a Stripe object the double holds, plus where it lives.

    ``platform`` is the Stripe account whose key made it (:attr:`FakeStripe.account_id`
    unless it was made with the keys of :meth:`FakeStripe.other_account`); ``account`` the
    connected account (``Stripe-Account``) or ``""``.
    """

    livemode: bool
    account: str
    platform: str

    def __init__(
        self, data: Mapping[str, Any], *, livemode: bool, account: str, platform: str = ""
    ) -> None:
        super().__init__(copy.deepcopy(dict(data)))
        self.livemode = livemode
        self.account = account
        self.platform = platform


@dataclass(frozen=True)
class FakeAccount:
    """Another Stripe account of the double: its keys reach only its own objects."""

    id: str
    secret_key: str
    live_secret_key: str
    publishable_key: str
    live_publishable_key: str


@dataclass
class _Fault:
    kind: str  # "fail", "delay", "drop", "malformed"
    times: int | None
    path: str | None
    method: str | None
    status: int = 500
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    mid_response: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or path.startswith(self.path)


@dataclass
class _Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: Refused before execution (validation, auth): never stored for idempotency.
    pre_execution: bool = False


@dataclass
class _Idempotent:
    fingerprint: tuple[str, str, str]
    response: _Response | None = None  # None while in flight
    request_id: str = ""


@dataclass
class _Stored:
    obj: dict[str, Any]
    livemode: bool
    account: str
    platform: str
    deleted: bool = False


Namespace = tuple[str, bool, str]  # (platform account, livemode, connected account)


class _StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        pre_execution: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.pre_execution = pre_execution


@dataclass
class _Request:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    api_key: str | None
    account: str
    livemode: bool
    idempotency_key: str | None
    request_id: str
    platform: str = ""


# --- the double -----------------------------------------------------------------------


class FakeStripe:
    """A Stripe API double over real HTTP on ``host:port`` (``port=0``: any free port)."""

    def __init__(
        self, honour_idempotency: bool = True, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._default_honour = honour_idempotency
        self.honour_idempotency = honour_idempotency
        self.host = host
        self.port = port
        self.secret_key = "sk_test_fake_" + _random(24)
        self.live_secret_key = "sk_live_fake_" + _random(24)
        self.publishable_key = "pk_test_fake_" + _random(24)
        self.live_publishable_key = "pk_live_fake_" + _random(24)
        #: The Stripe account that every well-formed key belongs to, unless it is a key of
        #: an account made with :meth:`other_account`.
        self.account_id = "acct_" + _random(16)
        self._other_accounts: dict[str, str] = {}  # key -> account id
        #: Keys answered with 401 "Invalid API Key provided" though well formed.
        self.revoked_keys: set[str] = set()
        #: Seconds a client may take to send the body its Content-Length announced; then
        #: the connection is closed, so a short or trickling body cannot hold a thread.
        self.body_timeout = 10.0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clear_state()

    def other_account(self) -> FakeAccount:
        """A second Stripe account, with keys of its own (as a key pasted from elsewhere).

        Objects made with its keys live apart from the default account's: each account's
        keys see only its own customers, as two real Stripe accounts do.
        """
        account = FakeAccount(
            id="acct_" + _random(16),
            secret_key="sk_test_fake_" + _random(24),
            live_secret_key="sk_live_fake_" + _random(24),
            publishable_key="pk_test_fake_" + _random(24),
            live_publishable_key="pk_live_fake_" + _random(24),
        )
        with self._lock:
            for key in (account.secret_key, account.live_secret_key):
                self._other_accounts[key] = account.id
        return account

    def platform_of(self, api_key: str) -> str:
        """The Stripe account a (well-formed) key belongs to."""
        with self._lock:
            return self._other_accounts.get(api_key, self.account_id)

    def _clear_state(self) -> None:
        with self._lock:
            self._objects: dict[str, _Stored] = {}
            self._order: list[str] = []
            self._sessions: list[StoredObject] = []
            self._idempotency: dict[tuple[str, bool, str, str], _Idempotent] = {}
            self._requests: list[RecordedRequest] = []
            self._faults: list[_Fault] = []

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> FakeStripe:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler, _family(self.host))
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
        self._stopping.set()
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
        host = _LOOPBACK.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (since start or the last :meth:`reset`)."""
        return self._server.accepted if self._server is not None else 0

    def drop_connections(self) -> None:
        """Close every kept-alive connection and count :attr:`connections` from zero; keep
        everything else (objects, records, faults)."""
        if self._server is not None:
            self._server.close_connections()
            self._server.accepted = 0

    def reset(self) -> None:
        """Forget objects, records, faults and revoked keys; keep the server and its port."""
        self._clear_state()
        self.revoked_keys.clear()
        self.honour_idempotency = self._default_honour
        if self._server is not None:
            self._server.close_connections()
            self._server.accepted = 0

    # --- inspection -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        method = method.upper()
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def _live_objects(self, prefix: str) -> list[StoredObject]:
        with self._lock:
            return [
                StoredObject(s.obj, livemode=s.livemode, account=s.account, platform=s.platform)
                for oid in self._order
                if oid.startswith(prefix) and not (s := self._objects[oid]).deleted
            ]

    @property
    def customers(self) -> list[StoredObject]:
        """Customers not deleted, in every mode and account, oldest first."""
        return self._live_objects("cus_")

    @property
    def customer_sessions(self) -> list[StoredObject]:
        with self._lock:
            return [
                StoredObject(s, livemode=s.livemode, account=s.account, platform=s.platform)
                for s in self._sessions
            ]

    @property
    def payment_intents(self) -> list[StoredObject]:
        return self._live_objects("pi_")

    @property
    def setup_intents(self) -> list[StoredObject]:
        return self._live_objects("seti_")

    # --- seeding ----------------------------------------------------------------------

    def create_customer(
        self, *, livemode: bool = False, account: str = "", platform: str = "", **params: Any
    ) -> StoredObject:
        """A customer made without HTTP; ``params`` as stripe-python would send them.

        ``platform``: the Stripe account (default :attr:`account_id`).
        """
        parsed = schema.parse_form(_encode(params))
        try:
            clean = schema.validate(schema.request_schema("PostCustomers"), parsed)
        except ParamError as exc:
            raise ValueError(exc.message) from None
        platform = platform or self.account_id
        obj = self._new_customer((platform, livemode, account), clean)
        return StoredObject(obj, livemode=livemode, account=account, platform=platform)

    def delete_customer(self, customer_id: str) -> dict[str, Any]:
        """Delete as ``DELETE /v1/customers/{id}`` would, in whichever namespace it lives."""
        with self._lock:
            stored = self._objects.get(customer_id)
            if stored is None or stored.deleted or not customer_id.startswith("cus_"):
                raise KeyError(customer_id)
            stored.deleted = True
        return {"id": customer_id, "object": "customer", "deleted": True}

    def erase_customer(self, customer_id: str) -> None:
        """Remove a customer as if it had never existed (Stripe's "delete all test data"):
        retrieving it then answers 404, not ``deleted: true``."""
        with self._lock:
            if self._objects.pop(customer_id, None) is None:
                raise KeyError(customer_id)
            self._order.remove(customer_id)

    # --- faults -----------------------------------------------------------------------

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

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
        self._add_fault(
            _Fault(
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
        self._add_fault(_Fault("delay", times, path, method, seconds=seconds))

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
        self._add_fault(_Fault("drop", times, path, method, mid_response=mid_response))

    def malformed_next(
        self, *, times: int | None = 1, path: str | None = None, method: str | None = None
    ) -> None:
        """Answer 200 with a body that is not JSON (a proxy's error page)."""
        self._add_fault(_Fault("malformed", times, path, method))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, kind: str, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.kind == "delay") != (kind == "delay"):
                    continue
                if not fault.matches(method, path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return dataclasses.replace(fault)
        return None

    # --- request handling (called from server threads) --------------------------------

    def _record(self, raw: _RawRequest, status: int | None, replayed: bool, response: Any) -> None:
        record = RecordedRequest(
            method=raw.method,
            path=raw.path,
            params=schema.normalize(raw.params),
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
            self._requests.append(record)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def handle(self, raw: _RawRequest) -> _Outcome:
        """Everything between the parsed HTTP request and the bytes answered."""
        delay = self._take_fault("delay", raw.method, raw.path)
        pending_delay = delay.seconds if delay else 0.0
        fault = self._take_fault("fault", raw.method, raw.path)

        if fault is not None and fault.kind == "fail":
            self._sleep(pending_delay)
            response = self._fault_response(fault, raw)
            self._record(raw, response.status, False, response.body)
            return _Outcome(response)
        if fault is not None and fault.kind == "malformed":
            self._sleep(pending_delay)
            self._record(raw, 200, False, None)
            return _Outcome(_Response(200, None), malformed=True)
        if fault is not None and fault.kind == "drop" and not fault.mid_response:
            self._sleep(pending_delay)
            self._record(raw, None, False, None)
            return _Outcome(None, drop=True)

        response, replayed = self._execute(raw, pending_delay)
        if fault is not None:  # a mid-response drop: executed, then cut off
            self._record(raw, None, replayed, None)
            return _Outcome(response, drop=True, mid_response=True)
        self._record(raw, response.status, replayed, response.body)
        return _Outcome(response, replayed=replayed)

    def _execute(self, raw: _RawRequest, pending_delay: float) -> tuple[_Response, bool]:
        if raw.parse_error is not None:
            self._sleep(pending_delay)
            return self._error_response(raw, raw.parse_error), False
        try:
            request = self._authenticate(raw)
        except _StripeError as exc:
            self._sleep(pending_delay)
            return self._error_response(raw, exc), False

        key = request.idempotency_key if raw.method == "POST" else None
        if not self.honour_idempotency or not key:
            self._sleep(pending_delay)
            return self._dispatch(request, raw), False

        slot = (request.platform, request.livemode, request.account, key)
        fingerprint = (raw.method, raw.path, json.dumps(raw.params, sort_keys=True))
        with self._lock:
            entry = self._idempotency.get(slot)
            if entry is None:
                self._idempotency[slot] = _Idempotent(fingerprint, request_id=raw.request_id)
            # Decided on arrival: a request in flight now is answered 409 even if it
            # finishes while this one is still being delayed.
            stored = copy.deepcopy(entry.response) if entry is not None else None
        if entry is not None:
            self._sleep(pending_delay)
            if entry.fingerprint != fingerprint:
                error = _StripeError(
                    400, IDEMPOTENCY_MISMATCH.format(key=key), type="idempotency_error"
                )
                return self._error_response(raw, error, request), False
            if stored is None:
                error = _StripeError(
                    409,
                    IDEMPOTENCY_IN_USE.format(key=key),
                    type="idempotency_error",
                    code="idempotency_key_in_use",
                )
                return self._error_response(raw, error, request), False
            stored.headers["Original-Request"] = entry.request_id
            stored.headers["Idempotent-Replayed"] = "true"
            return stored, True

        try:
            self._sleep(pending_delay)
            response = self._dispatch(request, raw)
        except BaseException:
            with self._lock:
                self._idempotency.pop(slot, None)
            raise
        with self._lock:
            if response.status >= 500 or response.pre_execution:
                self._idempotency.pop(slot, None)
            else:
                self._idempotency[slot].response = copy.deepcopy(response)
        return response, False

    def _authenticate(self, raw: _RawRequest) -> _Request:
        key = raw.api_key
        if not key:
            raise _StripeError(401, NO_KEY)
        if key.startswith(("pk_test_", "pk_live_")):
            raise _StripeError(401, PUBLISHABLE_KEY)
        if not _KEY.match(key) or key in self.revoked_keys:
            raise _StripeError(401, f"Invalid API Key provided: {mask_key(key)}")
        return _Request(
            method=raw.method,
            path=raw.path,
            params=raw.params,
            headers=raw.headers,
            api_key=key,
            account=raw.headers.get("stripe-account", ""),
            livemode=key.split("_", 2)[1] == "live",
            idempotency_key=raw.headers.get("idempotency-key"),
            request_id=raw.request_id,
            platform=self.platform_of(key),
        )

    # --- responses ------------------------------------------------------------------

    def _log_url(self, raw: _RawRequest, request: _Request | None) -> str:
        mode = "" if request is not None and request.livemode else "test/"
        account = f"{request.account}/" if request is not None and request.account else ""
        return (
            f"https://dashboard.stripe.com/{account}{mode}logs/{raw.request_id}?t={int(raw.time)}"
        )

    def _error_body(
        self,
        raw: _RawRequest,
        request: _Request | None,
        *,
        status: int,
        message: str,
        type: str,  # noqa: A002
        code: str | None = None,
        param: str | None = None,
    ) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if code:
            error["code"] = code
            error["doc_url"] = DOCS + code.replace("_", "-")
        error["message"] = message
        if param:
            error["param"] = param
        if status != 401:  # no account is known when the key is refused
            error["request_log_url"] = self._log_url(raw, request)
        error["type"] = type
        return {"error": error}

    def _error_response(
        self, raw: _RawRequest, exc: _StripeError | ParamError, request: _Request | None = None
    ) -> _Response:
        if isinstance(exc, ParamError):
            exc = _StripeError(
                exc.status, exc.message, code=exc.code, param=exc.param, pre_execution=True
            )
        body = self._error_body(
            raw,
            request,
            status=exc.status,
            message=exc.message,
            type=exc.type,
            code=exc.code,
            param=exc.param,
        )
        return _Response(exc.status, body, pre_execution=exc.pre_execution)

    def _fault_response(self, fault: _Fault, raw: _RawRequest) -> _Response:
        request: _Request | None
        try:
            request = self._authenticate(raw)
        except _StripeError:
            request = None
        if fault.error is not None:
            error = dict(fault.error)
            if fault.status != 401:
                error.setdefault("request_log_url", self._log_url(raw, request))
            body: dict[str, Any] = {"error": error}
        else:
            message, type_, code = _default_error(fault.status, raw)
            body = self._error_body(
                raw, request, status=fault.status, message=message, type=type_, code=code
            )
        return _Response(fault.status, body, headers=dict(fault.headers))

    # --- routing --------------------------------------------------------------------

    def _dispatch(self, request: _Request, raw: _RawRequest) -> _Response:
        route = _route(request.method, request.path)
        try:
            if route is None:
                raise _StripeError(
                    404,
                    f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                )
            handler, args = route
            status, body = handler(self, request, *args)
        except ParamError as exc:
            return self._error_response(raw, exc, request)
        except _StripeError as exc:
            return self._error_response(raw, exc, request)
        return _Response(status, body)

    # --- customers --------------------------------------------------------------------

    def _ns(self, request: _Request) -> Namespace:
        return (request.platform, request.livemode, request.account)

    def _new_customer(self, ns: Namespace, params: dict[str, Any]) -> dict[str, Any]:
        customer_id = "cus_" + _random(14)
        metadata = params.get("metadata") or {}
        obj: dict[str, Any] = {
            "id": customer_id,
            "object": "customer",
            "address": params.get("address") or None,
            "balance": params.get("balance", 0),
            "created": _now(),
            "currency": None,
            "customer_account": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description") or None,
            "discount": None,
            "email": params.get("email") or None,
            "invoice_prefix": params.get("invoice_prefix") or _random(8).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": ns[1],
            "metadata": {k: v for k, v in metadata.items() if v != ""},
            "name": params.get("name") or None,
            "next_invoice_sequence": params.get("next_invoice_sequence", 1),
            "phone": params.get("phone") or None,
            "preferred_locales": params.get("preferred_locales") or [],
            "shipping": params.get("shipping") or None,
            "tax_exempt": params.get("tax_exempt") or "none",
            "test_clock": None,
        }
        for optional in ("business_name", "individual_name"):
            if params.get(optional):
                obj[optional] = params[optional]
        self._store(obj, ns)
        return copy.deepcopy(obj)

    def _store(self, obj: dict[str, Any], ns: Namespace) -> None:
        with self._lock:
            self._objects[obj["id"]] = _Stored(copy.deepcopy(obj), ns[1], ns[2], ns[0])
            self._order.append(obj["id"])

    def _find(self, ns: Namespace, object_id: str, noun: str, param: str, status: int) -> _Stored:
        """The object ``object_id`` in namespace ``ns``, or Stripe's "No such …" error."""
        prefix = _PREFIXES[noun]
        with self._lock:
            stored = self._objects.get(object_id) if object_id.startswith(prefix) else None
            if stored is not None and (stored.platform, stored.livemode, stored.account) == ns:
                return stored
        message = f"No such {noun}: '{object_id}'"
        if (
            stored is not None
            and (stored.platform, stored.account) == (ns[0], ns[2])
            and stored.livemode != ns[1]
        ):
            have, used = ("live", "test") if stored.livemode else ("test", "live")
            message += (
                f"; a similar object exists in {have} mode, but a {used} mode key was used "
                "to make this request."
            )
        raise _StripeError(status, message, code="resource_missing", param=param)

    def _customer(self, ns: Namespace, customer_id: str, *, param: str, status: int) -> _Stored:
        return self._find(ns, customer_id, "customer", param, status)

    def create_customer_http(self, request: _Request) -> tuple[int, Any]:
        params = schema.validate(schema.request_schema("PostCustomers"), request.params)
        return 200, self._new_customer(self._ns(request), params)

    def retrieve_customer(self, request: _Request, customer_id: str) -> tuple[int, Any]:
        schema.validate(schema.request_schema("GetCustomersCustomer"), request.params)
        stored = self._find(self._ns(request), customer_id, "customer", "id", 404)
        if stored.deleted:
            return 200, {"id": customer_id, "object": "customer", "deleted": True}
        return 200, copy.deepcopy(stored.obj)

    def update_customer(self, request: _Request, customer_id: str) -> tuple[int, Any]:
        params = schema.validate(schema.request_schema("PostCustomersCustomer"), request.params)
        stored = self._find(self._ns(request), customer_id, "customer", "id", 404)
        if stored.deleted:
            raise _StripeError(
                404, f"No such customer: '{customer_id}'", code="resource_missing", param="id"
            )
        with self._lock:
            obj = stored.obj
            for name, value in params.items():
                if name == "expand":
                    continue
                if name == "metadata":
                    if value == "":
                        obj["metadata"] = {}
                        continue
                    for k, v in value.items():
                        if v == "":
                            obj["metadata"].pop(k, None)
                        else:
                            obj["metadata"][k] = v
                elif name in obj or name in ("business_name", "individual_name"):
                    obj[name] = None if value == "" else value
            return 200, copy.deepcopy(obj)

    def delete_customer_http(self, request: _Request, customer_id: str) -> tuple[int, Any]:
        schema.validate(schema.request_schema("DeleteCustomersCustomer"), request.params)
        stored = self._find(self._ns(request), customer_id, "customer", "id", 404)
        with self._lock:
            if stored.deleted:
                raise _StripeError(
                    404,
                    f"No such customer: '{customer_id}'",
                    code="resource_missing",
                    param="id",
                )
            stored.deleted = True
        return 200, {"id": customer_id, "object": "customer", "deleted": True}

    # --- customer sessions -------------------------------------------------------------

    def create_customer_session(self, request: _Request) -> tuple[int, Any]:
        params = schema.validate(schema.request_schema("PostCustomerSessions"), request.params)
        requested: dict[str, Any] = params["components"]
        if not any(component.get("enabled") for component in requested.values()):
            raise ParamError(
                "At least one component must be enabled.",
                param="components",
            )
        customer_id = params.get("customer")
        if customer_id is None:
            if params.get("customer_account"):
                raise _StripeError(
                    400,
                    f"No such account: '{params['customer_account']}'",
                    code="resource_missing",
                    param="customer_account",
                )
            raise ParamError(
                "Missing required param: customer.", param="customer", code="parameter_missing"
            )
        ns = self._ns(request)
        stored = self._customer(ns, customer_id, param="customer", status=400)
        if stored.deleted:
            raise _StripeError(
                400,
                f"No such customer: '{customer_id}'",
                code="resource_missing",
                param="customer",
            )
        now = _now()
        session = {
            "object": "customer_session",
            "client_secret": "cuss_secret_" + _random(48),
            "components": _echo_components(requested),
            "created": now,
            "customer": customer_id,
            "customer_account": None,
            "expires_at": now + SESSION_LIFETIME,
            "livemode": request.livemode,
        }
        with self._lock:
            self._sessions.append(
                StoredObject(
                    session,
                    livemode=request.livemode,
                    account=request.account,
                    platform=request.platform,
                )
            )
        return 200, session

    # --- the account ------------------------------------------------------------------

    def retrieve_account(self, request: _Request) -> tuple[int, Any]:
        """``GET /v1/account``: the key's account, or the connected one (``Stripe-Account``)."""
        schema.validate(schema.RETRIEVE, request.params)
        return 200, {
            "id": request.account or request.platform,
            "object": "account",
            "charges_enabled": True,
            "country": "US",
            "default_currency": "usd",
            "details_submitted": True,
            "payouts_enabled": True,
            "type": "custom" if request.account else "standard",
        }

    # --- payment and setup intents ----------------------------------------------------------

    def _intent_customer(self, request: _Request, params: dict[str, Any]) -> str | None:
        customer_id = params.get("customer")
        if customer_id is None:
            return None
        stored = self._customer(self._ns(request), customer_id, param="customer", status=400)
        if stored.deleted:
            raise _StripeError(
                400,
                f"No such customer: '{customer_id}'",
                code="resource_missing",
                param="customer",
            )
        return str(customer_id)

    def create_payment_intent(self, request: _Request) -> tuple[int, Any]:
        params = schema.validate(schema.PAYMENT_INTENT_CREATE, request.params)
        if params["amount"] < 1:
            raise ParamError(
                "This value must be greater than or equal to 1.",
                param="amount",
                code="parameter_invalid_integer",
            )
        currency = params["currency"].lower()
        if not _CURRENCY.match(currency):
            raise ParamError(f"Invalid currency: {params['currency']}", param="currency")
        customer = self._intent_customer(request, params)
        intent_id = "pi_" + _random(24)
        apm = params.get("automatic_payment_methods")
        obj = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": params["amount"],
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": (
                {"allow_redirects": apm.get("allow_redirects", "always"), "enabled": apm["enabled"]}
                if apm
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{_random(25)}",
            "confirmation_method": "automatic",
            "created": _now(),
            "currency": currency,
            "customer": customer,
            "description": params.get("description") or None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": request.livemode,
            "metadata": {k: v for k, v in (params.get("metadata") or {}).items() if v != ""},
            "next_action": None,
            "payment_method": None,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "receipt_email": params.get("receipt_email") or None,
            "setup_future_usage": params.get("setup_future_usage"),
            "shipping": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._store(obj, self._ns(request))
        return 200, obj

    def create_setup_intent(self, request: _Request) -> tuple[int, Any]:
        params = schema.validate(schema.SETUP_INTENT_CREATE, request.params)
        customer = self._intent_customer(request, params)
        intent_id = "seti_" + _random(24)
        apm = params.get("automatic_payment_methods")
        obj = {
            "id": intent_id,
            "object": "setup_intent",
            "application": None,
            "automatic_payment_methods": (
                {"allow_redirects": apm.get("allow_redirects", "always"), "enabled": apm["enabled"]}
                if apm
                else None
            ),
            "cancellation_reason": None,
            "client_secret": f"{intent_id}_secret_{_random(32)}",
            "created": _now(),
            "customer": customer,
            "description": params.get("description") or None,
            "last_setup_error": None,
            "latest_attempt": None,
            "livemode": request.livemode,
            "mandate": None,
            "metadata": {k: v for k, v in (params.get("metadata") or {}).items() if v != ""},
            "next_action": None,
            "payment_method": None,
            "payment_method_types": params.get("payment_method_types") or ["card"],
            "single_use_mandate": None,
            "status": "requires_payment_method",
            "usage": params.get("usage", "off_session"),
        }
        self._store(obj, self._ns(request))
        return 200, obj

    def retrieve_intent(self, request: _Request, intent_id: str, noun: str) -> tuple[int, Any]:
        schema.validate(schema.RETRIEVE, request.params)
        stored = self._find(self._ns(request), intent_id, noun, "intent", 404)
        return 200, copy.deepcopy(stored.obj)


# --- helpers used by the handlers above ------------------------------------------------


def _encode(params: Mapping[str, Any]) -> str:
    """``params`` form-encoded the way stripe-python encodes them."""
    from urllib.parse import urlencode

    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), v)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif isinstance(value, bool):
            pairs.append((prefix, "true" if value else "false"))
        else:
            pairs.append((prefix, str(value)))

    walk("", params)
    return urlencode(pairs)


_PAYMENT_ELEMENT_DEFAULTS: dict[str, Any] = {
    "payment_method_allow_redisplay_filters": ["always"],
    "payment_method_redisplay": "disabled",
    "payment_method_redisplay_limit": 3,
    "payment_method_remove": "disabled",
    "payment_method_save": "disabled",
    "payment_method_save_usage": None,
}


def _echo_components(requested: Mapping[str, Any]) -> dict[str, Any]:
    """Every component the response schema lists: requested ones echoed, the rest off."""
    response_schema = schema.object_schema("customer_session")["properties"]["components"]
    out: dict[str, Any] = {}
    for name, component_schema in sorted(response_schema["properties"].items()):
        asked = requested.get(name, {})
        enabled = bool(asked.get("enabled", False))
        component: dict[str, Any] = {"enabled": enabled}
        if "features" in component_schema.get("properties", {}):
            features_schema = component_schema["properties"]["features"]
            alternatives = features_schema.get("anyOf") or [features_schema]
            names = sorted(alternatives[0].get("properties", {}))
            if not enabled:
                component["features"] = None
            else:
                given = asked.get("features") or {}
                defaults = _PAYMENT_ELEMENT_DEFAULTS if name == "payment_element" else {}
                component["features"] = {
                    feature: given.get(feature, defaults.get(feature)) for feature in names
                }
        out[name] = component
    return out


def _default_error(status: int, raw: _RawRequest) -> tuple[str, str, str | None]:
    """(message, type, code) Stripe would plausibly answer an injected ``status`` with."""
    if status == 401:
        key = raw.api_key or ""
        return f"Invalid API Key provided: {mask_key(key)}", "invalid_request_error", None
    if status == 402:
        return "Your card was declined.", "card_error", "card_declined"
    if status == 403:
        return (
            "The provided key does not have the required permissions for this endpoint.",
            "invalid_request_error",
            None,
        )
    if status == 404:
        return (
            "The requested resource does not exist.",
            "invalid_request_error",
            "resource_missing",
        )
    if status == 409:
        return (
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry "
            "the request. If you see this error frequently and are making multiple concurrent "
            "requests to a single object, make your requests serially or at a lower rate.",
            "invalid_request_error",
            "lock_timeout",
        )
    if status == 429:
        return (
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            "invalid_request_error",
            "rate_limit",
        )
    if status >= 500:
        return (
            "An unknown error occurred. Please try again; if the error persists, contact "
            "Stripe support.",
            "api_error",
            None,
        )
    return "Invalid request.", "invalid_request_error", None


Handler = Callable[..., tuple[int, Any]]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"^/v1/account$"), lambda f, r: f.retrieve_account(r)),
    ("POST", re.compile(r"^/v1/customers$"), lambda f, r: f.create_customer_http(r)),
    ("GET", re.compile(r"^/v1/customers/([^/]+)$"), lambda f, r, i: f.retrieve_customer(r, i)),
    ("POST", re.compile(r"^/v1/customers/([^/]+)$"), lambda f, r, i: f.update_customer(r, i)),
    (
        "DELETE",
        re.compile(r"^/v1/customers/([^/]+)$"),
        lambda f, r, i: f.delete_customer_http(r, i),
    ),
    ("POST", re.compile(r"^/v1/customer_sessions$"), lambda f, r: f.create_customer_session(r)),
    ("POST", re.compile(r"^/v1/payment_intents$"), lambda f, r: f.create_payment_intent(r)),
    (
        "GET",
        re.compile(r"^/v1/payment_intents/([^/]+)$"),
        lambda f, r, i: f.retrieve_intent(r, i, "payment_intent"),
    ),
    ("POST", re.compile(r"^/v1/setup_intents$"), lambda f, r: f.create_setup_intent(r)),
    (
        "GET",
        re.compile(r"^/v1/setup_intents/([^/]+)$"),
        lambda f, r, i: f.retrieve_intent(r, i, "setupintent"),
    ),
]


def _route(method: str, path: str) -> tuple[Handler, tuple[str, ...]] | None:
    for route_method, pattern, handler in _ROUTES:
        if route_method != method:
            continue
        match = pattern.match(path)
        if match:
            return handler, tuple(unquote(group) for group in match.groups())
    return None


# --- HTTP plumbing -------------------------------------------------------------------


@dataclass
class _RawRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    api_key: str | None
    time: float
    request_id: str
    parse_error: ParamError | None = None


@dataclass
class _Outcome:
    response: _Response | None
    replayed: bool = False
    drop: bool = False
    mid_response: bool = False
    malformed: bool = False


def _api_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return credentials or None
        return decoded.split(":", 1)[0] or None
    return authorization.strip() or None


#: Wildcard addresses, and the loopback address a client on this machine reaches them at.
_LOOPBACK = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeStripe

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        family: socket.AddressFamily = socket.AF_INET,
    ) -> None:
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeStripe/1.0"
    sys_version = ""
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, adding ~40 ms to every kept-alive request (Stripe adds none).
    disable_nagle_algorithm = True
    server: _Server

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
            params = schema.parse_form(split.query)
            if body and self.command not in ("GET",):
                params.update(schema.parse_form(body))
        except ParamError as exc:
            params, parse_error = {}, exc
        raw = _RawRequest(
            method=self.command,
            path=path,
            params=params,
            headers=headers,
            api_key=_api_key(headers.get("authorization")),
            time=arrived,
            request_id="req_" + _random(14),
            parse_error=parse_error,
        )
        outcome = self.server.fake.handle(raw)
        self._answer(raw, outcome)

    def _answer(self, raw: _RawRequest, outcome: _Outcome) -> None:
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
