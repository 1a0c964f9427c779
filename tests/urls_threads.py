"""Sync views that tell which thread and database connection served them (test_asgi_threads)."""

import threading
import uuid

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

meeting = threading.Barrier(2, timeout=10)


class _ThreadMark(threading.local):
    """A value of each thread's own, never given to another thread (unlike thread idents)."""

    def __init__(self) -> None:
        self.value = uuid.uuid4().hex


_mark = _ThreadMark()


def where(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"thread": _mark.value, "connection": id(connection.connection)})


def meet(request: HttpRequest) -> JsonResponse:
    meeting.wait()  # returns only once two requests are in this view at the same time
    return JsonResponse({"thread": _mark.value, "connection": 0})


urlpatterns = [path("where/", where), path("meet/", meet)]
