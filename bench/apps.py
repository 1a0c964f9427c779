from __future__ import annotations

import threading
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created

_lock = threading.Lock()
_queries = 0


def queries() -> int:
    """Database queries this process has run (every connection, every thread)."""
    return _queries


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    global _queries
    with _lock:
        _queries += 1
    return execute(sql, params, many, context)


def _install(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


class BenchConfig(AppConfig):
    """Counts the queries of every database connection, for ``/bench/stats/``."""

    name = "bench"

    def ready(self) -> None:
        connection_created.connect(_install, dispatch_uid="bench-count-queries")
