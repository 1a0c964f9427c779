"""Pacing and progress reporting shared by the app's management commands."""

from __future__ import annotations

import threading
import time
from typing import Any


class Pacer:
    """Spaces calls at least ``1 / rate`` seconds apart, across threads.

    A slot is taken when a caller is ready to go, never reserved ahead: if the process
    stalls (a long garbage collection, a busy machine) while callers sleep, they wake and
    go one interval apart, not all at once. A quiet spell earns no burst afterwards either.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                if now >= self.next_at:
                    self.next_at = now + self.interval
                    return
                delay = self.next_at - now
            time.sleep(delay)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class Progress:
    """A progress bar with rate and ETA on a terminal; a plain line now and then otherwise."""

    WIDTH = 30

    def __init__(self, stdout: Any, total: int, *, noun: str, every: int = 100) -> None:
        self.stdout = stdout
        self.total = total
        self.noun = noun
        self.every = every
        self.done = 0
        self.started = time.monotonic()
        self.tty = bool(getattr(stdout, "isatty", lambda: False)())

    def status(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        eta = _duration(left / rate) if rate > 0 else "?"
        return f"{self.done}/{self.total} {self.noun}, {rate:.1f}/s, ETA {eta}"

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.tty:
            filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stdout.write(f"\r[{bar}] {self.status()}", ending="")
            self.stdout.flush()
        elif self.done % self.every == 0 or self.done == self.total:
            self.stdout.write(self.status())

    def finish(self) -> None:
        if self.tty:
            self.stdout.write("")
