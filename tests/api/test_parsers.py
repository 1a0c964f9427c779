"""The endpoint's bodies: what it answers and which request bodies it accepts.

The views validate an empty request body and write the 201 body without building a DRF
serializer on every session; these tests hold them to what the serializers say. Bodies the
endpoint cannot take (too deep, too large, in a charset it cannot read, cut off, chunked)
are each answered with a 4xx JSON error of a stable code, by the sync view over WSGI and by
the async view over ASGI alike, and some of them over real sockets (gunicorn, Django's ASGI
handler fed a server's messages).
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.test import AsyncClient, Client

from customer_sessions.api.serializers import (
    CustomerSessionSerializer,
    requested_components,
    response_body,
)
from customer_sessions.services import create_customer_session

from ..factories import StripeCustomerFactory, UserFactory
from ..servers import Site, browser_cookies, gunicorn

URL = "/api/customer-session/"


def test_response_body_is_what_the_documented_serializer_gives(fake_stripe, user):
    session = create_customer_session(user)

    assert response_body(session) == CustomerSessionSerializer(session).data


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("", "application/json"),
        ("{}", "application/json"),
        ("", "application/x-www-form-urlencoded"),
    ],
)
def test_empty_bodies_get_the_default_preset(fake_stripe, signed_in, raw, content_type):
    response = signed_in.post(URL, data=raw, content_type=content_type)

    assert response.status_code == 201
    (sent,) = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert sent.params["components"]["payment_element"]["enabled"] in (True, "true")


@pytest.mark.parametrize("raw", ["[]", "null", '""', "0"])
def test_empty_values_that_are_not_an_object_are_refused(fake_stripe, signed_in, raw):
    response = signed_in.post(URL, data=raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert fake_stripe.requests == []


def test_a_named_preset_is_validated_by_the_serializer(settings):
    presets = {"payment_element": {"payment_element": {"enabled": True}}, "pricing": {}}
    settings.CUSTOMER_SESSIONS = {**settings.CUSTOMER_SESSIONS, "COMPONENT_PRESETS": presets}

    assert requested_components({}) is None
    assert requested_components({"components": "pricing"}) == "pricing"


# --- bodies the endpoint cannot take: each a 4xx JSON error of a stable code ----------------

BOUNDARY = "b0undary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PRICING = b'{"components": "pricing_table"}'


def multipart(*parts: tuple[str, bytes, str | None], closed: bool = True) -> bytes:
    """A multipart/form-data body of ``(name, value, filename or None)`` parts."""
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += value + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if closed else b"")


def over_memory_limit() -> bytes:
    return b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)


def too_many_fields() -> list[str]:
    return [f"f{i}" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)]


#: id → (body, Content-Type, extra headers, status, code). Bodies are built when a test
#: runs, with the site's own limits.
HOSTILE: dict[str, tuple[Any, str, dict[str, str], int, str]] = {
    "json nested 1000 deep": (lambda: b"[" * 1000 + b"]" * 1000, JSON, {}, 400, "parse_error"),
    "json nested 33 deep": (
        lambda: b'{"components": ' + b"[" * 32 + b"]" * 32 + b"}",
        JSON,
        {},
        400,
        "parse_error",
    ),
    "json nested 100000 deep": (
        lambda: b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        JSON,
        {},
        400,
        "parse_error",
    ),
    "json over DATA_UPLOAD_MAX_MEMORY_SIZE": (
        lambda: b'{"components": "' + over_memory_limit() + b'"}',
        JSON,
        {},
        413,
        "request_too_large",
    ),
    "form over DATA_UPLOAD_MAX_MEMORY_SIZE": (
        lambda: b"components=" + over_memory_limit(),
        FORM,
        {},
        413,
        "request_too_large",
    ),
    "multipart field over DATA_UPLOAD_MAX_MEMORY_SIZE": (
        lambda: multipart(("components", over_memory_limit(), None)),
        MULTIPART,
        {},
        413,
        "request_too_large",
    ),
    "form over DATA_UPLOAD_MAX_NUMBER_FIELDS": (
        lambda: "&".join(f"{name}=1" for name in too_many_fields()).encode(),
        FORM,
        {},
        413,
        "too_many_fields",
    ),
    "multipart over DATA_UPLOAD_MAX_NUMBER_FIELDS": (
        lambda: multipart(*[(name, b"1", None) for name in too_many_fields()]),
        MULTIPART,
        {},
        413,
        "too_many_fields",
    ),
    "json giving a name twice": (
        lambda: b'{"components": "buy_button", "components": "pricing_table"}',
        JSON,
        {},
        400,
        "parse_error",
    ),
    "form giving a field twice": (
        lambda: b"components=buy_button&components=pricing_table",
        FORM,
        {},
        400,
        "invalid",
    ),
    "multipart giving a field twice": (
        lambda: multipart(
            ("components", b"buy_button", None), ("components", b"pricing_table", None)
        ),
        MULTIPART,
        {},
        400,
        "invalid",
    ),
    "json with more names than DATA_UPLOAD_MAX_NUMBER_FIELDS": (
        lambda: json.dumps({name: 1 for name in too_many_fields()}).encode(),
        JSON,
        {},
        413,
        "too_many_fields",
    ),
    "json not UTF-8": (lambda: b'{"components": "\xff\xfe"}', JSON, {}, 400, "parse_error"),
    "json NaN": (lambda: b'{"components": NaN}', JSON, {}, 400, "parse_error"),
    "unknown charset": (
        lambda: PRICING,
        JSON + "; charset=no-such-charset",
        {},
        415,
        "unsupported_media_type",
    ),
    "charset that is no text encoding (zlib)": (
        lambda: zlib.compress(PRICING),
        JSON + "; charset=zlib",
        {},
        415,
        "unsupported_media_type",
    ),
    "form charset rot13": (
        lambda: b"components=pricing_table",
        FORM + "; charset=rot13",
        {},
        415,
        "unsupported_media_type",
    ),
    "Content-Encoding gzip": (
        lambda: gzip.compress(PRICING),
        JSON,
        {"Content-Encoding": "gzip"},
        415,
        "unsupported_media_type",
    ),
    "no Content-Length (chunked)": (
        lambda: PRICING,
        JSON,
        {"Transfer-Encoding": "chunked"},
        411,
        "length_required",
    ),
    "multipart cut off before its closing boundary": (
        lambda: multipart(("components", b"pricing_table", None), closed=False),
        MULTIPART,
        {},
        400,
        "parse_error",
    ),
    "multipart without a boundary": (lambda: b"abc", "multipart/form-data", {}, 400, "parse_error"),
    "multipart that is no multipart": (lambda: b"abc", MULTIPART, {}, 400, "parse_error"),
    "multipart with a file": (
        lambda: multipart(("components", b"pricing_table", "preset.txt")),
        MULTIPART,
        {},
        400,
        "invalid",
    ),
}


@pytest.fixture
def mapped(fake_stripe, user):  # type: ignore[no-untyped-def]
    """The user has a customer, so the async view creates none (in a thread of its own)."""
    StripeCustomerFactory(user=user, customer_id=fake_stripe.create_customer()["id"])
    return user


def send(endpoint: str, user: Any, body: bytes, content_type: str, headers: dict[str, str]) -> Any:
    """POST ``body`` as a signed-in browser: the sync view over WSGI, the async over ASGI."""
    if endpoint == "sync":
        client = Client()
        client.force_login(user)
        return client.generic("POST", URL, body, content_type, headers=headers)

    async def post() -> Any:
        client = AsyncClient()
        await client.aforce_login(user)
        return await client.generic("POST", URL, body, content_type, headers=headers)

    return async_to_sync(post)()


@pytest.fixture(params=["sync", "async"])
def endpoint(request, settings):  # type: ignore[no-untyped-def]
    if request.param == "async":
        settings.ROOT_URLCONF = "tests.urls_async"
    return request.param


def assert_json_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert set(body) <= {"code", "detail", "errors"} and isinstance(body["detail"], str)
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    return body


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_body_the_endpoint_cannot_take_is_a_json_error_of_a_stable_code(
    fake_stripe, mapped, endpoint, case
):
    build, content_type, headers, status, code = HOSTILE[case]

    response = send(endpoint, mapped, build(), content_type, headers)

    assert_json_error(response, status, code)
    assert fake_stripe.requests == []


def test_a_file_is_refused_before_it_is_stored(fake_stripe, mapped, endpoint):
    body = multipart(("components", b"pricing_table", None), ("upload", b"x" * 5_000_000, "a.bin"))

    response = send(endpoint, mapped, body, MULTIPART, {})

    errors = assert_json_error(response, 400, "invalid")["errors"]
    assert errors == {"upload": ["Files are not accepted; send the preset name as text."]}
    assert fake_stripe.requests == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"components": "pricing_table"}'.encode("utf-16"), JSON + "; charset=utf-16"),
        (b"components=pricing_table", FORM + "; charset=latin-1"),
        (multipart(("components", b"pricing_table", None)), MULTIPART),
    ],
    ids=["utf-16 json", "latin-1 form", "multipart"],
)
def test_bodies_in_another_text_encoding_or_multipart_are_read(
    fake_stripe, mapped, endpoint, body, content_type
):
    response = send(endpoint, mapped, body, content_type, {})

    assert response.status_code == 201, response.content
    (sent,) = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert set(sent.params["components"]) == {"pricing_table"}


# --- a plain HTML form ------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [FORM, MULTIPART])
def test_a_plain_html_form_with_its_csrf_token_works(fake_stripe, mapped, content_type):
    client = Client(enforce_csrf_checks=True)
    client.force_login(mapped)
    client.get("/accounts/login/")  # a page that sets the CSRF cookie, as a form's page does
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    fields = {"csrfmiddlewaretoken": token, "components": "pricing_table"}
    if content_type == FORM:
        response = client.post(URL, data=urlencode(fields), content_type=FORM)
    else:
        response = client.post(URL, data=fields)  # the test client's multipart encoding

    assert response.status_code == 201, response.content
    (sent,) = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert set(sent.params["components"]) == {"pricing_table"}


def test_a_form_with_a_wrong_csrf_token_is_refused(fake_stripe, mapped):
    client = Client(enforce_csrf_checks=True)
    client.force_login(mapped)
    client.get("/accounts/login/")
    fields = {"csrfmiddlewaretoken": "x" * 32, "components": "pricing_table"}

    response = client.post(URL, data=urlencode(fields), content_type=FORM)

    assert_json_error(response, 403, "permission_denied")
    assert fake_stripe.requests == []


def test_the_csrf_token_in_json_is_an_unknown_field(fake_stripe, mapped):
    client = Client()
    client.force_login(mapped)

    response = client.post(URL, data='{"csrfmiddlewaretoken": "x"}', content_type=JSON)

    assert assert_json_error(response, 400, "invalid")["errors"] == {
        "csrfmiddlewaretoken": ["Unknown field. Only 'components' may be sent."]
    }


# --- over real sockets: gunicorn (the sync view), Django's ASGI handler (the async view) ------


@pytest.fixture(scope="module")
def gunicorn_site(django_db_setup: None, fake_stripe_server: Any) -> Iterator[Site]:
    with gunicorn(
        ["--workers", "1", "--worker-class", "gthread", "--threads", "2"],
        stripe_url=fake_stripe_server.url,
        stripe_key=fake_stripe_server.secret_key,
    ) as site:
        yield site


def raw_post(
    site: Site,
    browser: tuple[dict[str, str], dict[str, str]],
    body: bytes,
    content_type: str,
    *,
    chunked: bool = False,
    csrf_header: bool = True,
) -> tuple[int, str, dict[str, Any]]:
    """(status, Content-Type, JSON body) of a POST sent as a browser's bytes on the wire."""
    cookies, csrf = browser
    headers = dict(csrf) if csrf_header else {}
    headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    headers["Content-Type"] = content_type
    connection = http.client.HTTPConnection(urlsplit(site.url).netloc, timeout=60)
    try:
        if chunked:  # in two chunks, as a client streaming its body sends it
            parts = iter([body[: len(body) // 2], body[len(body) // 2 :]])
            connection.request("POST", URL, body=parts, headers=headers, encode_chunked=True)
        else:
            connection.request("POST", URL, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers["Content-Type"], json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_odd_bodies_are_json_errors_and_a_form_works(fake_stripe, gunicorn_site):
    user = UserFactory(password=None)
    StripeCustomerFactory(user=user, customer_id=fake_stripe.create_customer()["id"])
    browser = browser_cookies(user)
    cases = {
        "chunked json": (PRICING, JSON, True, 411, "length_required"),
        "chunked form": (b"components=pricing_table", FORM, True, 411, "length_required"),
        "json nested 1000 deep": (b"[" * 1000 + b"]" * 1000, JSON, False, 400, "parse_error"),
        "json over the memory limit": (
            b'"' + over_memory_limit() + b'"',
            JSON,
            False,
            413,
            "request_too_large",
        ),
        "multipart cut off": (
            multipart(("components", b"pricing_table", None), closed=False),
            MULTIPART,
            False,
            400,
            "parse_error",
        ),
    }
    for case, (body, content_type, chunked, status, code) in cases.items():
        answer = raw_post(gunicorn_site, browser, body, content_type, chunked=chunked)
        print("measured:", f"gunicorn, {case}: {answer[0]} {answer[1]} {answer[2].get('code')}")
        assert answer[:2] == (status, "application/json"), (case, answer)
        assert answer[2]["code"] == code, case
    assert fake_stripe.requests == []

    # A client that stops sending: what arrived is a whole JSON object, but not the body.
    cookies, csrf = browser
    address = urlsplit(gunicorn_site.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        head = (
            f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            f"X-CSRFToken: {csrf['X-CSRFToken']}\r\nContent-Type: {JSON}\r\n"
            f"Content-Length: {len(PRICING) + 50}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + PRICING)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head_lines, _, body = answer.partition(b"\r\n\r\n")
    print("measured:", f"gunicorn, json cut short: {head_lines.split(b' ')[1].decode()} {body!r}")
    assert head_lines.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["code"] == "parse_error"
    assert fake_stripe.requests == []

    # A plain <form>: its CSRF token is a field, there is no header.
    cookies, _ = browser
    form = {
        "csrfmiddlewaretoken": cookies[settings.CSRF_COOKIE_NAME],
        "components": "pricing_table",
    }
    status, _, body = raw_post(
        gunicorn_site, browser, urlencode(form).encode(), FORM, csrf_header=False
    )
    assert status == 201, body
    (sent,) = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert set(sent.params["components"]) == {"pricing_table"}


def asgi_post(user: Any, messages: list[bytes], headers: list[tuple[bytes, bytes]]) -> Any:
    """POST through Django's ASGI handler, the body in ``messages`` as a server sends them."""
    cookies, csrf = browser_cookies(user)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"x-csrftoken", csrf["X-CSRFToken"].encode()),
            *headers,
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def exchange() -> tuple[dict[str, Any], dict[str, Any]]:
        communicator = ApplicationCommunicator(ASGIHandler(), scope)
        for index, chunk in enumerate(messages):
            more = index < len(messages) - 1
            await communicator.send_input(
                {"type": "http.request", "body": chunk, "more_body": more}
            )
        start = await communicator.receive_output(30)
        body = await communicator.receive_output(30)
        await communicator.wait(30)
        return start, body

    start, body = async_to_sync(exchange)()
    response_headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], response_headers, json.loads(body["body"])


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_chunked_or_short_body_is_refused_and_a_split_one_is_read(
    fake_stripe, settings
):
    settings.ROOT_URLCONF = "tests.urls_async"
    user = UserFactory(password=None)
    StripeCustomerFactory(user=user, customer_id=fake_stripe.create_customer()["id"])
    halves = [PRICING[:10], PRICING[10:]]
    content_type = (b"content-type", JSON.encode())

    chunked = asgi_post(user, halves, [content_type, (b"transfer-encoding", b"chunked")])
    assert chunked[0] == 411 and chunked[1]["content-type"] == "application/json"
    assert chunked[2]["code"] == "length_required"
    assert "no-store" in chunked[1]["cache-control"]
    assert fake_stripe.requests == []

    longer = (b"content-length", str(len(PRICING) + 50).encode())
    short = asgi_post(user, halves, [content_type, longer])
    assert short[0] == 400 and short[2]["code"] == "parse_error", short
    assert fake_stripe.requests == []

    length = (b"content-length", str(len(PRICING)).encode())
    split = asgi_post(user, halves, [content_type, length])
    assert split[0] == 201, split
    (sent,) = fake_stripe.requests_to("POST", "/v1/customer_sessions")
    assert set(sent.params["components"]) == {"pricing_table"}


def test_a_body_past_django_limits_is_still_logged_where_django_logs_it(
    fake_stripe, mapped, caplog
):
    client = Client()
    client.force_login(mapped)

    response = client.post(URL, data=b"components=" + over_memory_limit(), content_type=FORM)

    assert_json_error(response, 413, "request_too_large")
    (record,) = [r for r in caplog.records if r.name.startswith("django.security.")]
    assert record.name == "django.security.RequestDataTooBig"
    assert record.levelname == "ERROR"


def test_json_32_levels_deep_is_read_and_refused_for_what_it_says(fake_stripe, mapped, endpoint):
    body = b'{"components": ' + b"[" * 31 + b"]" * 31 + b"}"  # 32 levels with the object

    response = send(endpoint, mapped, body, JSON, {})

    assert assert_json_error(response, 400, "invalid")["errors"].keys() == {"components"}
