"""Sync views that tell which thread and database connection served them (test_asgi_threads)."""

import threading
import uuid

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.urls import path

meeting = threading.Barrier(2, timeout=10)
blocked = threading.Event()
release = threading.Event()
#: The connection wrapper of every thread that ran a view, by thread mark.
wrappers: dict[str, object] = {}


class _ThreadMark(threading.local):
    """A value of each thread's own, never given to another thread (unlike thread idents)."""

    def __init__(self) -> None:
        self.value = uuid.uuid4().hex


_mark = _ThreadMark()


def _answer() -> JsonResponse:
    wrapper = connections["default"]  # this thread's own, not the proxy to the current one
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    wrappers[_mark.value] = wrapper
    return JsonResponse({"thread": _mark.value})


def where(request: HttpRequest) -> JsonResponse:
    return _answer()


def meet(request: HttpRequest) -> JsonResponse:
    meeting.wait()  # returns only once two requests are in this view at the same time
    return _answer()


def block(request: HttpRequest) -> JsonResponse:
    wrappers["blocked"] = _mark.value  # type: ignore[assignment]
    blocked.set()
    release.wait(10)
    return _answer()


urlpatterns = [path("where/", where), path("meet/", meet), path("block/", block)]
