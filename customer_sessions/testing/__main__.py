"""Run the Stripe double in the foreground: ``python -m customer_sessions.testing``.

Options: ``--port N`` (default: any free port), ``--host`` (default 127.0.0.1),
``--no-idempotency`` (ignore ``Idempotency-Key``), ``--latency MS`` (delay every request).
Prints the URL and keys to use; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .server import FakeStripe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_sessions.testing", description="Run the Stripe double."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument(
        "--no-idempotency", action="store_true", help="ignore Idempotency-Key headers"
    )
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS")
    args = parser.parse_args(argv)

    fake = FakeStripe(honour_idempotency=not args.no_idempotency, host=args.host, port=args.port)
    try:
        fake.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if args.latency > 0:
        fake.delay(args.latency / 1000.0)

    done = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    print(f"Fake Stripe listening on {fake.url}")
    print(f"  API_BASE        = {fake.url}")
    print(f"  SECRET_KEY      = {fake.secret_key}")
    print(f"  live SECRET_KEY = {fake.live_secret_key}")
    print(f"  PUBLISHABLE_KEY = {fake.publishable_key}")
    print("Any well-formed sk_test_/sk_live_ key is accepted. Ctrl-C stops.", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
