"""Run the Stripe double in the foreground: ``python -m customer_sessions.testing``.

Options: ``--port N`` (default: any free port), ``--host`` (default 127.0.0.1),
``--no-idempotency`` (ignore ``Idempotency-Key``), ``--latency MS`` (delay every request).
Prints the URL and keys to use; Ctrl-C stops it.

The double has no authentication: any well-formed key is accepted, and whoever reaches
it can read what others stored and the keys they sent. On a host other than a loopback
address (``--host 0.0.0.0`` for a container, say) it warns so on stderr, and prints the
URLs a client can use: this machine's loopback address for a wildcard host, and the
machine's name for clients elsewhere.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import socket
import sys
import threading
from typing import Any

from .double import FakeStripe


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _wildcard(host: str) -> bool:
    try:
        return host == "" or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _elsewhere(port: int) -> list[str]:
    """URLs of this machine for clients on other machines: its name, and its addresses."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except OSError:
        found = []
    addresses = sorted({str(info[4][0]) for info in found} - {"127.0.0.1", "::1"})
    hosts = [name, *(f"[{a}]" if ":" in a else a for a in addresses)]
    return [f"http://{host}:{port}" for host in hosts if not _is_loopback(host)]


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
    parser.add_argument(
        "--write-limit",
        type=int,
        default=None,
        metavar="N",
        help="answer writes past N per second (per account and mode) with 429 rate_limit, "
        "as Stripe does (25 in test mode, 100 in live mode); default: no limit",
    )
    args = parser.parse_args(argv)

    fake = FakeStripe(honour_idempotency=not args.no_idempotency, host=args.host, port=args.port)
    try:
        fake.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    if args.latency > 0:
        fake.delay(args.latency / 1000.0)
    if args.write_limit is not None:
        try:
            fake.limit_writes(args.write_limit)
        except ValueError as exc:
            fake.stop()
            parser.error(str(exc))

    done = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    if _wildcard(args.host):
        print(f"Fake Stripe listening on every interface, port {fake.port}")
    else:
        print(f"Fake Stripe listening on {fake.url}")
    print(f"  API_BASE        = {fake.url}")
    if _wildcard(args.host):
        for url in _elsewhere(fake.port):
            print(f"  from elsewhere  = {url}")
    if not _is_loopback(args.host):
        print(
            f"WARNING: the Stripe double has no authentication and listens on {args.host or '*'}"
            f", port {fake.port}: anyone who can reach it can read the customers and sessions "
            "stored in it and the API keys clients send. Use it on trusted networks only.",
            file=sys.stderr,
            flush=True,
        )
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
