"""The flood row: a burst of Customer Sessions against Stripe's write limit, with and
without ``SITE_SESSION_RATE``, while the site takes payments.

Stripe limits an account's writes (25 a second in test mode, 100 in live mode), and every
Customer Session is one. The double enforces the test-mode limit (``limit_writes(25)``);
the demo runs under gunicorn with 2 workers sharing a Redis cache; 40 signed-in clients
ask for sessions as fast as they are answered for 4 s while this process creates 8
PaymentIntents a second with the same key, as the site's checkout would. Each side counts
what Stripe was asked for and what it refused.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import stripe

from customer_sessions.testing import FakeStripe

CLIENTS = 40
SECONDS = 4.0
PAYMENTS_PER_SECOND = 8
STRIPE_WRITE_LIMIT = 25
BUDGET = "10/s"
SESSIONS_PATH = "/v1/customer_sessions"


@dataclass
class FloodSide:
    label: str
    statuses: dict[str, int]  # the endpoint's answers, by HTTP status
    asked: int  # sessions Stripe was asked for
    refused_by_stripe: int  # of them, answered 429
    payments: int
    payments_refused: int


@contextlib.contextmanager
def redis_url(workdir: Path) -> Iterator[str | None]:
    """A private redis-server on a Unix socket (None when redis-server is not installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    socket = workdir / "redis.sock"
    process = subprocess.Popen(  # noqa: S603 - Debian's redis-server, our arguments
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"unix://{socket}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _payments(fake: FakeStripe, start: threading.Event, statuses: list[int]) -> None:
    shop = stripe.StripeClient(
        fake.secret_key, base_addresses={"api": fake.url}, max_network_retries=0
    )
    start.wait()
    began = time.monotonic()
    for i in range(int(SECONDS * PAYMENTS_PER_SECOND)):
        time.sleep(max(0.0, began + i / PAYMENTS_PER_SECOND - time.monotonic()))
        try:
            shop.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
            statuses.append(200)
        except stripe.StripeError as exc:
            statuses.append(exc.http_status or 0)


def flood_side(fake: FakeStripe, label: str, port: int, credentials: Path) -> FloodSide:
    """One side: the flood through the server on ``port``, payments beside it."""
    fake.clear_faults()
    fake.limit_writes(STRIPE_WRITE_LIMIT)
    before = len(fake.requests)
    start, paid = threading.Event(), []
    payments = threading.Thread(target=_payments, args=(fake, start, paid))
    payments.start()
    command = [
        sys.executable, "-m", "bench.loadgen", f"--port={port}",
        "--path=/api/customer-session/", f"--concurrency={CLIENTS}",
        f"--duration={SECONDS}", f"--credentials={credentials}",
    ]  # fmt: skip
    try:
        loadgen = subprocess.Popen(command, stdout=subprocess.PIPE)  # noqa: S603 - our module
        start.set()
        out, _ = loadgen.communicate(timeout=120)
        payments.join(timeout=60)
    finally:
        fake.limit_writes(None)
    sessions = [r for r in fake.requests[before:] if r.method == "POST" and r.path == SESSIONS_PATH]
    return FloodSide(
        label=label,
        statuses=dict(json.loads(out)["statuses"]),
        asked=len(sessions),
        refused_by_stripe=sum(1 for r in sessions if r.status == 429),
        payments=len(paid),
        payments_refused=sum(1 for status in paid if status != 200),
    )


def render_flood(sides: list[FloodSide], note: str = "") -> str:
    if not sides:
        return note or "Not measured."
    lines = [
        "| side | endpoint answers (HTTP status: count) | sessions Stripe was asked for | "
        "refused by Stripe (429) | payments refused |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for side in sides:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(Counter(side.statuses).items()))
        lines.append(
            f"| {side.label} | {answers} | {side.asked} | {side.refused_by_stripe} | "
            f"**{side.payments_refused} of {side.payments}** |"
        )
    return "\n".join(lines)
