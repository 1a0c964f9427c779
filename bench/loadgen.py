"""A small HTTP/1.1 load generator: keep-alive connections, a fixed number of clients.

``python -m bench.loadgen --port 8001 --path /api/customer-session/ --concurrency 8
--duration 5 --credentials creds.json`` prints one JSON object: requests answered 2xx,
errors, throughput, latency percentiles and this process's own CPU time. Each client sends
its next request as soon as the previous answer arrived, as a signed-in user (session and
CSRF cookies, ``X-CSRFToken``), cycling through the users in ``--credentials``.

Plain asyncio streams (uvloop when installed): the load generator must cost far less CPU
than the server it measures, and the report shows how much it used.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import sys
import time
from typing import Any


def _requests(args: argparse.Namespace) -> list[bytes]:
    with open(args.credentials) as file:
        users = json.load(file)
    body = args.body.encode()
    out = []
    for user in users:
        lines = [
            f"{args.method} {args.path} HTTP/1.1",
            f"Host: 127.0.0.1:{args.port}",
            "Accept: application/json",
            f"Cookie: sessionid={user['sessionid']}; csrftoken={user['csrftoken']}",
            f"X-CSRFToken: {user['csrftoken']}",
            f"Content-Length: {len(body)}",
        ]
        if body:
            lines.append("Content-Type: application/json")
        out.append(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return out


async def _client(
    args: argparse.Namespace,
    requests: Any,
    deadline: float,
    remaining: list[int],
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader = writer = None
    while time.perf_counter() < deadline and remaining[0] != 0:
        if remaining[0] > 0:
            remaining[0] -= 1
        request = next(requests)
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(args.host, args.port)
            assert reader is not None
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length:
                await reader.readexactly(length)
            if close:
                writer.close()
                reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
            if writer is not None:
                writer.close()
            reader = writer = None
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
    if writer is not None:
        writer.close()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    requests = itertools.cycle(_requests(args))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    # -1: as many as fit in --duration; N: stop after N requests.
    remaining = [args.requests or -1]
    started = time.perf_counter()
    deadline = started + (args.duration if not args.requests else 3600.0)
    await asyncio.gather(
        *(
            _client(args, requests, deadline, remaining, latencies, statuses)
            for _ in range(args.concurrency)
        )
    )
    elapsed = time.perf_counter() - started
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "ok": ok,
        "errors": sum(statuses.values()) - ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": elapsed,
        "rps": ok / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--path", required=True)
    parser.add_argument("--body", default="")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=0, help="stop after N (not a duration)")
    parser.add_argument("--credentials", required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_main(args))
    else:
        result = uvloop.run(_main(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
