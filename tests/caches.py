"""A cache backend that keeps a pickled copy of everything a site stores in it, for tests
that must prove a value never reached any cache."""

from __future__ import annotations

import pickle
from typing import Any

from django.core.cache.backends.locmem import LocMemCache

#: Every value stored in any RecordingCache since the last clear(), pickled as the
#: real backends pickle it (Redis, Memcached, the database and file caches all do).
STORED: list[bytes] = []


class RecordingCache(LocMemCache):
    def _record(self, value: Any) -> None:
        STORED.append(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))

    def add(self, key: str, value: Any, *args: Any, **kwargs: Any) -> bool:
        self._record(value)
        return super().add(key, value, *args, **kwargs)

    def set(self, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self._record(value)
        super().set(key, value, *args, **kwargs)

    def set_many(self, data: dict[str, Any], *args: Any, **kwargs: Any) -> list[str]:
        for value in data.values():
            self._record(value)
        return super().set_many(data, *args, **kwargs)

    def clear(self) -> None:
        STORED.clear()
        super().clear()


def everything_stored() -> bytes:
    return b"\n".join(STORED)
