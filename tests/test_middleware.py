"""``CustomerSessionMiddleware``, on its own: what it writes into a response and what it marks."""

from __future__ import annotations

import asyncio

import pytest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import RequestFactory

from customer_sessions.middleware import (
    CustomerSessionMiddleware,
    PendingSecrets,
    mark_current_issued,
    mark_issued,
    pending_secrets,
)

SECRET = "cuss_secret_AbCdEf0123456789"


def serve(view, path: str = "/"):  # type: ignore[no-untyped-def]
    return CustomerSessionMiddleware(view)(RequestFactory().get(path))


def test_pending_secrets_are_written_in_and_the_length_follows():
    def view(request):  # type: ignore[no-untyped-def]
        token = pending_secrets(request).stand_in(SECRET)  # type: ignore[union-attr]
        response = HttpResponse(f"<p>{token}</p><p>{token}</p>")
        response["Content-Length"] = str(len(response.content))
        mark_issued(request)
        return response

    response = serve(view)
    assert response.content == f"<p>{SECRET}</p><p>{SECRET}</p>".encode()
    assert int(response["Content-Length"]) == len(response.content)
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}


def test_a_json_response_gets_its_secret_too():
    def view(request):  # type: ignore[no-untyped-def]
        token = pending_secrets(request).stand_in(SECRET)  # type: ignore[union-attr]
        return JsonResponse({"html": f'<script>{{"client_secret": "{token}"}}</script>'})

    assert SECRET in serve(view).content.decode()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_error_page_never_gets_a_secret(status):
    def view(request):  # type: ignore[no-untyped-def]
        token = pending_secrets(request).stand_in(SECRET)  # type: ignore[union-attr]
        return HttpResponse(f"Local vars: {token}", status=status)

    assert SECRET not in serve(view).content.decode()


def test_a_streamed_response_is_left_as_it_is():
    def view(request):  # type: ignore[no-untyped-def]
        token = pending_secrets(request).stand_in(SECRET)  # type: ignore[union-attr]
        return StreamingHttpResponse([token])

    body = b"".join(serve(view).streaming_content)  # type: ignore[attr-defined]
    assert SECRET.encode() not in body


def test_the_secrets_leave_the_request_with_the_response():
    seen = {}

    def view(request):  # type: ignore[no-untyped-def]
        seen["request"] = request
        pending_secrets(request).stand_in(SECRET)  # type: ignore[union-attr]
        return HttpResponse("x")

    serve(view)
    assert pending_secrets(seen["request"]) is None


def test_the_python_api_marks_the_request_being_served():
    def view(request):  # type: ignore[no-untyped-def]
        mark_current_issued()  # what create_customer_session does
        return HttpResponse("x")

    response = serve(view)
    assert "no-store" in response["Cache-Control"]
    mark_current_issued()  # outside a request: nothing to mark, no error


def test_pending_secrets_show_no_secret_and_refuse_to_be_stored():
    import pickle

    pending = PendingSecrets()
    pending.stand_in(SECRET)
    assert SECRET not in repr(pending)
    with pytest.raises(TypeError):
        pickle.dumps(pending)


def test_middleware_marks_responses_under_asgi_without_a_thread_hop():
    from asgiref.sync import iscoroutinefunction

    async def page(request):  # type: ignore[no-untyped-def]
        mark_issued(request)
        return HttpResponse("<script>…</script>")

    async def plain(request):  # type: ignore[no-untyped-def]
        return HttpResponse("hello")

    middleware = CustomerSessionMiddleware(page)
    assert iscoroutinefunction(middleware)
    response = asyncio.run(middleware(RequestFactory().get("/")))
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    untouched = asyncio.run(CustomerSessionMiddleware(plain)(RequestFactory().get("/")))
    assert not untouched.has_header("Cache-Control")
