"""``make bench``: run every comparison on this machine and write docs/benchmarks.md.

``python -m bench.run`` (all rows, about ten minutes) or ``python -m bench.run --only NAME``
(one row, printed, docs untouched). ``--rounds``/``--duration`` change how long each row runs.

This process runs the Stripe double (``customer_sessions.testing.FakeStripe``, with added
latency) and nothing else while a measurement runs, so its CPU time is the double's. The
servers are real processes (gunicorn, uvicorn) with the benchmark settings
(``bench.settings``: the demo's settings, DEBUG off, SQLite); the load comes from a third
process (``bench.loadgen``). Each row runs its two sides alternately, ``--rounds`` times,
each run preceded by a warm-up; the ratio is taken round by round and the median reported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from customer_sessions.testing import FakeStripe

from .flood import (
    BUDGET,
    CLIENTS,
    PAYMENTS_PER_SECOND,
    SECONDS,
    STRIPE_WRITE_LIMIT,
    FloodSide,
    flood_side,
    redis_url,
    render_flood,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOCS = ROOT / "docs" / "benchmarks.md"
DJSTRIPE_VENV = ROOT / ".venv-bench-djstripe"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- servers --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


@dataclass
class Server:
    """A server process serving ``bench.settings`` on a free port."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, workdir: Path) -> Server:
        self.port = _free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        self.log = workdir / f"{self.name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            with contextlib.suppress(OSError):
                self.stats()
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within 60 s; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output_tail(self, lines: int = 40) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *_children(self.process.pid)]

    def cpu(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.pids())

    def stats(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/bench/stats/"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our server)
            return dict(json.load(response))


def gunicorn(
    name: str, env: dict[str, str], python_bin: Path = BIN, threads: int = 8, workers: int = 1
) -> Server:
    return Server(
        name,
        [
            str(python_bin / "gunicorn"),
            "project.wsgi:application",
            "--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            "--keep-alive=75",
            "--backlog=2048",
            "--log-level=warning",
        ],
        env,
    )


def uvicorn(name: str, env: dict[str, str]) -> Server:
    return Server(
        name,
        [
            str(BIN / "uvicorn"),
            "project.asgi:application",
            "--host=127.0.0.1",
            "--port={port}",
            "--log-level=warning",
            "--no-access-log",
            "--timeout-keep-alive=75",
        ],
        env,
    )


# --- one measurement ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What the load generator asks of which server."""

    label: str
    server: str
    path: str
    method: str = "POST"


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    ok: int
    stripe_per_session: float
    queries_per_session: float
    loadgen_cpu: float  # % of one core
    double_cpu: float
    server_cpu: float
    rss_kb: int


@dataclass
class Bench:
    fake: FakeStripe
    workdir: Path
    credentials: Path
    servers: dict[str, Server] = field(default_factory=dict)
    duration: float = 5.0
    warmup: float = 1.0

    def loadgen(self, target: Target, concurrency: int, **extra: Any) -> dict[str, Any]:
        server = self.servers[target.server]
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            f"--port={server.port}",
            f"--method={target.method}",
            f"--path={target.path}",
            f"--concurrency={concurrency}",
            f"--credentials={self.credentials}",
        ]
        command += [f"--{key}={value}" for key, value in extra.items()]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        return dict(json.loads(done.stdout))

    def measure(
        self, target: Target, concurrency: int, *, requests: int = 0, warmup: bool = True
    ) -> Run:
        server = self.servers[target.server]
        if warmup:
            self.loadgen(target, concurrency, duration=self.warmup)
        stripe_before = len(self.fake.requests)
        stats_before = server.stats()
        server_before = server.cpu()
        double_before = time.process_time()
        wall = time.perf_counter()
        if requests:
            result = self.loadgen(target, concurrency, requests=requests)
        else:
            result = self.loadgen(target, concurrency, duration=self.duration)
        wall = time.perf_counter() - wall
        double_cpu = time.process_time() - double_before
        server_cpu = server.cpu() - server_before
        stats_after = server.stats()
        stripe = len(self.fake.requests) - stripe_before
        ok = max(1, result["ok"])
        return Run(
            rps=result["rps"],
            p50_ms=result["p50_ms"],
            p99_ms=result["p99_ms"],
            errors=result["errors"],
            ok=result["ok"],
            stripe_per_session=stripe / ok,
            queries_per_session=(stats_after["queries"] - stats_before["queries"]) / ok,
            loadgen_cpu=100 * result["cpu_s"] / wall,
            double_cpu=100 * double_cpu / wall,
            server_cpu=100 * server_cpu / wall,
            rss_kb=stats_after["rss_kb"],
        )


# --- the rows -----------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    title: str
    targets: list[Target]
    latency_ms: float
    concurrency: int
    rounds: int
    target_note: str = ""
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def ratios(self) -> list[float]:
        first, second = (self.runs[t.label] for t in self.targets[:2])
        return [a.rps / b.rps if b.rps else 0.0 for a, b in zip(first, second, strict=True)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def run_row(bench: Bench, row: Row) -> Row:
    bench.fake.clear_faults()
    if row.latency_ms:
        bench.fake.delay(row.latency_ms / 1000.0)
    row.runs = {t.label: [] for t in row.targets}
    for round_no in range(row.rounds):
        order = row.targets if round_no % 2 == 0 else list(reversed(row.targets))
        for target in order:
            run = bench.measure(target, row.concurrency)
            row.runs[target.label].append(run)
            print(
                f"  {row.name} round {round_no + 1} {target.label}: {run.rps:.1f} req/s "
                f"p50 {run.p50_ms:.1f} ms p99 {run.p99_ms:.1f} ms errors {run.errors}",
                flush=True,
            )
    bench.fake.clear_faults()
    return row


def rows(rounds: int, djstripe: bool) -> list[Row]:
    app = Target("this app", "wsgi", "/api/customer-session/")
    bare = Target("bare DRF view", "wsgi", "/bench/bare/")
    result = [
        Row(
            "app-vs-bare-0ms",
            "Endpoint vs bare DRF view (fixed customer, reused client), 0 ms added latency",
            [app, bare],
            0,
            8,
            max(rounds, 5),
            "target ≥ 0.95",
        ),
        Row(
            "app-vs-bare-50ms",
            "Endpoint vs bare DRF view (fixed customer, reused client), 50 ms added latency",
            [app, bare],
            50,
            8,
            max(rounds, 5),
            "target ≥ 0.95",
        ),
        Row(
            "app-vs-naive-50ms",
            "Endpoint vs the tutorial view (new client per request, a customer made each time)",
            [app, Target("naive view", "wsgi", "/bench/naive/")],
            50,
            8,
            rounds,
        ),
    ]
    if djstripe:
        result.append(
            Row(
                "app-vs-djstripe-50ms",
                "Endpoint vs dj-stripe (Customer.get_or_create + a hand-written session call)",
                [app, Target("dj-stripe view", "djstripe", "/bench/djstripe/")],
                50,
                8,
                rounds,
            )
        )
    page = Target("page without tag", "wsgi", "/bench/page/", "GET")
    tagged = Target("page with tag", "wsgi", "/bench/page-tag/", "GET")
    result += [
        Row("tag-vs-notag-0ms", "Page with {% customer_session %} vs the same page without",
            [tagged, page], 0, 8, rounds),
        Row("tag-vs-notag-50ms", "Page with {% customer_session %} vs the same page without",
            [tagged, page], 50, 8, rounds),
        Row(
            "async-vs-sleep-200ms",
            "Async endpoint vs a signed-in async view that only sleeps 200 ms instead of "
            "calling Stripe, both on Django's own ASGI handler (uvicorn, 1 worker), 64 "
            "clients, 200 ms added latency",
            [
                Target("async endpoint, uvicorn", "asgi", "/api/async/customer-session/"),
                # Django's ASGI stack alone: the same signed-in request, 200 ms asleep
                # instead of a Stripe request (the double is not called).
                Target("signed-in view that only sleeps 200 ms, uvicorn", "asgi",
                       "/bench/wait-async/"),
                Target("bare async view, uvicorn", "asgi", "/bench/bare-async/"),
            ],
            200,
            64,
            rounds,
            "target ≥ 0.85",
        ),
        Row(
            "asgi-vs-wsgi-200ms",
            "Async endpoint under ASGI (uvicorn, 1 worker) vs sync endpoint under WSGI "
            "(gunicorn, 1 worker × 8 threads), 64 clients, 200 ms added latency",
            [
                Target("async endpoint, uvicorn", "asgi", "/api/async/customer-session/"),
                Target("sync endpoint, gunicorn 8 threads", "wsgi", "/api/customer-session/"),
                Target("sync endpoint, uvicorn", "asgi", "/api/customer-session/"),
                Target("sync endpoint, gunicorn 64 threads", "wsgi64", "/api/customer-session/"),
            ],
            200,
            64,
            rounds,
            "a comparison: which server for which site",
        ),
    ]  # fmt: skip
    return result


def memory(bench: Bench, sessions: int) -> list[tuple[str, int, int, Run]]:
    """RSS of the one worker after a warm-up and after ``sessions`` more sessions."""
    bench.fake.clear_faults()
    out = []
    for target in (
        Target("sync endpoint, gunicorn", "wsgi", "/api/customer-session/"),
        Target("async endpoint, uvicorn", "asgi", "/api/async/customer-session/"),
    ):
        server = bench.servers[target.server]
        bench.measure(target, 8, requests=1000, warmup=False)
        before = server.stats()["rss_kb"]
        run = bench.measure(target, 8, requests=sessions, warmup=False)
        out.append((target.label, before, run.rss_kb, run))
        print(f"  memory {target.label}: {before} kB -> {run.rss_kb} kB", flush=True)
    return out


# --- dj-stripe ----------------------------------------------------------------------------


def djstripe_status() -> tuple[bool, str]:
    python = DJSTRIPE_VENV / "bin" / "python"
    if not python.exists():
        return False, f"{DJSTRIPE_VENV.name} not found (make bench creates it)"
    done = subprocess.run(
        [
            str(python),
            "-c",
            "import djstripe, stripe; from importlib.metadata import version; "
            "print(f\"dj-stripe {version('dj-stripe')}, stripe {stripe.VERSION}\")",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        return False, done.stderr.strip().splitlines()[-1]
    return True, done.stdout.strip()


def djstripe_server(env: dict[str, str], source: Path, db: Path, customers: Path) -> Server:
    """A gunicorn of the dj-stripe site, on a copy of the users, sessions and customers."""
    env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "bench.djstripe_settings",
        "BENCH_SOURCE_DB": str(source),
        "BENCH_DB": str(db),
        "BENCH_CUSTOMERS": str(customers),
    }
    python = DJSTRIPE_VENV / "bin" / "python"
    subprocess.run([str(python), "-m", "bench.djstripe_prepare"], cwd=ROOT, env=env, check=True)
    return gunicorn("djstripe", env, python_bin=DJSTRIPE_VENV / "bin")


# --- the report ---------------------------------------------------------------------------


def _versions() -> list[tuple[str, str]]:
    names = ["django", "djangorestframework", "stripe", "httpx", "gunicorn", "uvicorn", "uvloop"]
    out = [("Python", platform.python_version()), ("SQLite", sqlite3.sqlite_version)]
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out.append((name, metadata.version(name)))
    return out


def _machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    load = os.getloadavg()
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}){mem}; "
        f"load average at the end of the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )


def _fmt_run_cell(runs: list[Run]) -> str:
    return f"{_median([r.rps for r in runs]):.1f}"


def render_rows(done: list[Row]) -> str:
    lines = [
        "| row | side | req/s (median) | p50 / p99 ms | Stripe req / session | "
        "DB queries / session | errors | CPU % server / load gen / double |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in done:
        for target in row.targets:
            runs = row.runs[target.label]
            lines.append(
                f"| `{row.name}` | {target.label} | {_fmt_run_cell(runs)} | "
                f"{_median([r.p50_ms for r in runs]):.1f} / {_median([r.p99_ms for r in runs]):.1f}"
                f" | {_median([r.stripe_per_session for r in runs]):.2f} | "
                f"{_median([r.queries_per_session for r in runs]):.2f} | "
                f"{sum(r.errors for r in runs)} | "
                f"{_median([r.server_cpu for r in runs]):.0f} / "
                f"{_median([r.loadgen_cpu for r in runs]):.0f} / "
                f"{_median([r.double_cpu for r in runs]):.0f} |"
            )
    return "\n".join(lines)


def render_ratios(done: list[Row]) -> str:
    lines = [
        "| row | what | added latency | clients | ratio (median of rounds) | "
        "per round | target | command |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in done:
        ratios = row.ratios()
        first, second = row.targets[0].label, row.targets[1].label
        lines.append(
            f"| `{row.name}` | {row.title}: **{first}** / {second} | {row.latency_ms:.0f} ms | "
            f"{row.concurrency} | **{_median(ratios):.3f}** | "
            f"{', '.join(f'{r:.3f}' for r in ratios)} | {row.target_note or '—'} | "
            f"`make bench BENCH=--only={row.name}` |"
        )
    return "\n".join(lines)


def render(
    done: list[Row],
    mem: list[tuple[str, int, int, Run]],
    sessions: int,
    djstripe: tuple[bool, str],
    args: argparse.Namespace,
    seconds: float,
    flood: tuple[list[FloodSide], str] = ([], ""),
) -> str:
    stack = next((r for r in done if r.name == "async-vs-sleep-200ms"), None)
    asgi_line = ""
    if stack is not None:
        async_rps, wait_rps = (
            _median([r.rps for r in stack.runs[t.label]]) for t in stack.targets[:2]
        )
        asgi_line = (
            f"\nOn Django's own ASGI handler with 200 ms of Stripe latency and 64 clients, one "
            f"uvicorn worker served **{async_rps:.0f} req/s** through the async endpoint, "
            f"**{100 * async_rps / 320:.0f} %** of the ideal 64 / 0.2 s = 320 req/s; the same "
            f"signed-in request to a view that only sleeps 200 ms got **{wait_rps:.0f} req/s** "
            f"({100 * wait_rps / 320:.0f} %). That second figure is the ceiling of one ASGI "
            "worker here, Django's stack before any Stripe request: a site that needs more "
            "runs more worker processes (docs/deployment.md)."
        )
        if len(stack.targets) > 2:
            ends = [stack.runs[t.label] for t in (stack.targets[0], stack.targets[2])]
            per_round = [a.rps / b.rps if b.rps else 0.0 for a, b in zip(*ends, strict=True)]
            asgi_line += (
                f" Against the bare async view, which makes the same Stripe request and "
                f"nothing else, the endpoint served **{_median(per_round):.3f}** "
                f"({', '.join(f'{r:.3f}' for r in per_round)} by round)."
            )
    asgi_line += "\n" if asgi_line else ""
    mem_lines = [
        "| server | RSS after 1,000 sessions | RSS after "
        f"{sessions:,} more | growth | req/s during the run |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, before, after, run in mem:
        mem_lines.append(
            f"| {label} | {before / 1024:.1f} MiB | {after / 1024:.1f} MiB | "
            f"{(after - before) / 1024:+.1f} MiB | {run.rps:.0f} |"
        )
    versions = ", ".join(f"{name} {version}" for name, version in _versions())
    dj_note = (
        f"dj-stripe row: {djstripe[1]} in `{DJSTRIPE_VENV.name}/` (dj-stripe requires "
        "stripe<16; this app's side runs stripe 16)."
        if djstripe[0]
        else f"**No dj-stripe row**: {djstripe[1]}."
    )
    return f"""# Benchmarks

Written by `make bench` (`python -m bench.run`) on {
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    }
in {seconds / 60:.1f} minutes. Rerun it to get this machine's figures; rerun one row
with the command in its line (that prints the row and leaves this file alone).

## What was measured

- **Machine**: {_machine()}. Other work ran on the machine during the run (it is shared
  with parallel test suites), so figures move between runs; that is why each row runs its
  sides alternately, {args.rounds} (or for the bare rows at least 5) times, and reports the
  median of the **ratios taken round by round**, not a ratio of medians.
- **Versions**: {versions}.
- **Stripe**: `customer_sessions.testing.FakeStripe` (the app's Stripe double, a threaded
  HTTP server on 127.0.0.1) in the `bench.run` process itself, with the row's latency
  added to every request (`FakeStripe.delay`). Stripe requests per session are counted by
  the double.
- **Servers**: real processes with `bench.settings` (the demo's settings with DEBUG off,
  SQLite in IMMEDIATE mode, the app's INFO log line per session kept, the throttle on at
  100000/min so it is evaluated but never reached, database connections kept for 60 s as
  the demo keeps them). WSGI: `gunicorn project.wsgi -w 1 -k gthread --threads 8` (and
  `--threads 64`, a thread per client, in the ASGI row); ASGI: `uvicorn project.asgi`
  (one process, uvloop; Django's own ASGI handler, `get_asgi_application()`, as sites
  deploy it). Database queries
  per session are counted by a wrapper on every connection of the worker
  (`bench/apps.py`), and include the 2 queries of Django session authentication (session
  row, user row).
- **Load**: `bench/loadgen.py`, a separate process, N keep-alive connections each sending
  its next request as soon as the previous answer arrives, as {args.users} signed-in users
  in turn (session cookie + CSRF token, as a browser sends them). Each run: {args.warmup:g} s
  of warm-up, then {args.duration:g} s measured. Throughput counts 2xx answers only.
- **CPU**: % of one core during the measured run, for the server (all its processes), the
  load generator and the double. With 2 cores, all three share the machine: at 0 ms latency
  the sum is the machine's capacity and throughput is CPU-bound for every side alike.
- **The views compared** (`bench/views.py`): *bare DRF view*: an `APIView` with the site's
  default authentication, one `customer_sessions.create` for a fixed customer through one
  reused `StripeClient`; *naive view*: a `StripeClient` built per request (a new connection
  each time) and a customer created on every request, as tutorials show; *dj-stripe view*
  (`bench/djstripe_views.py`): `djstripe.models.Customer.get_or_create(subscriber=user)` and
  `stripe.CustomerSession.create` with dj-stripe's key; *pages*: the same template with and
  without `{{% customer_session %}}`.
- {dj_note}

## Ratios

{render_ratios(done)}
{asgi_line}
How to read them:

- At 0 ms the servers are CPU-bound, so a ratio is the share of CPU per request: the
  endpoint does work the bare view skips (the per-user throttle, body validation, the
  mapping query, its log line, the no-store headers), and skips one thing the bare view
  does: stripe-python's stock requests client looks through the whole environment for
  proxy settings on every request (about 80 µs here), the app's client reads them once.
  With latency the work overlaps the wait for Stripe (see docs/deployment.md, "CPU per
  session").
- The naive view makes two Stripe requests per session (a new customer every time) over
  a new connection per request: Stripe's rate limit is used up twice as fast, and
  Stripe fills up with customers.
- The tag rows compare a page that waits for Stripe with one that does not: the
  difference is one Stripe round trip, which is what the tag costs.
- Under ASGI Django runs a sync view in a thread of its own per request, so the sync
  endpoint under uvicorn serves concurrent users too; the async endpoint does it without
  holding a thread while Stripe answers. Django runs each hook of the demo's built-in
  middleware (security, sessions, common, CSRF, authentication, messages, clickjacking,
  CSP) through `sync_to_async`, whatever the view: passes between the event loop and a
  thread that, with 64 clients arriving together every 200 ms, wait behind the other
  requests' share. The sleep-only view shows where Django's stack leaves one worker before
  any Stripe request: that is the ceiling of an ASGI worker on this machine. What
  separates the endpoint from it is the Stripe request itself: stripe-python's async
  client over httpx on the event loop, and the double's CPU for every request it answers
  (it shares the two cores; the sleep-only side never calls it). The bare async view,
  which makes the same Stripe request and nothing else, serves what the endpoint serves:
  what the app adds is inside the noise. The sync endpoint under uvicorn can serve as
  many or more: its Stripe request (requests, in its thread) costs less CPU than
  stripe-python's async one over httpx; in exchange it holds a thread, and its database
  connection, for every user waiting on Stripe.

## Every side

{render_rows(done)}

## A flood of sessions against Stripe's write limit

The Stripe double refuses writes past {STRIPE_WRITE_LIMIT} a second, as Stripe does in test
mode; the demo runs under gunicorn with 2 workers (8 threads each) sharing a Redis cache;
{CLIENTS} signed-in clients ask for sessions as fast as they are answered for {SECONDS:g} s
while the site creates {PAYMENTS_PER_SECOND} PaymentIntents a second with the same key
(`bench/flood.py`; `make bench BENCH=--only=flood`). With `SITE_SESSION_RATE = "{BUDGET}"` the
sessions keep to their share of the writes, and the payments keep theirs:

{render_flood(*flood)}

## Memory of one worker

After 1,000 warm-up sessions, then after {sessions:,} more, 8 clients, no added latency
(RSS read by the worker itself):

{chr(10).join(mem_lines)}
"""


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--only", help="run one row by name, print it, leave the docs alone")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=10_000, help="for the memory table")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    with FakeStripe() as fake, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        db = workdir / "bench.sqlite3"
        credentials = workdir / "credentials.json"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "BENCH_DB": str(db),
            "STRIPE_API_BASE": fake.url,
            "STRIPE_SECRET_KEY": fake.secret_key,
            "STRIPE_PUBLISHABLE_KEY": fake.publishable_key,
            "PYTHONPATH": str(ROOT),
            # Every server signs and checks the same sessions (the dj-stripe site too).
            "DJANGO_SECRET_KEY": "bench-" + os.urandom(16).hex(),
        }
        env.pop("DEMO_SERVER", None)
        print(f"Preparing {args.users} users and their customers ...", flush=True)
        prepared = subprocess.run(
            [sys.executable, "-m", "bench.prepare", f"--users={args.users}",
             f"--credentials={credentials}"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        env["BENCH_CUSTOMER"] = prepared.stdout.strip().splitlines()[-1]
        djstripe = djstripe_status()
        wanted = [r for r in rows(args.rounds, djstripe[0]) if not args.only or r.name == args.only]
        if args.only == "flood":
            sides, note = run_flood(fake, env, workdir, credentials)
            print(render_flood(sides, note))
            return 0
        if not wanted:
            parser.error(f"no row named {args.only!r}")
        needed = {t.server for r in wanted for t in r.targets}
        if not args.only:
            needed |= {"wsgi", "asgi"}
        bench = Bench(fake, workdir, credentials, duration=args.duration, warmup=args.warmup)
        try:
            for name in sorted(needed):
                print(f"Starting {name} ...", flush=True)
                if name == "wsgi":
                    server = gunicorn("wsgi", env)
                elif name == "wsgi64":
                    server = gunicorn("wsgi64", env, threads=64)
                elif name == "asgi":
                    server = uvicorn("asgi", env)
                else:
                    customers = workdir / "customers.json"
                    customers.write_text(json.dumps(_customers(db)))
                    server = djstripe_server(env, db, workdir / "djstripe.sqlite3", customers)
                bench.servers[name] = server.start(workdir)
            done = []
            for row in wanted:
                print(f"{row.name}: {row.title}", flush=True)
                done.append(run_row(bench, row))
            if args.only:
                print(render_ratios(done))
                print(render_rows(done))
                return 0
            print("memory ...", flush=True)
            mem = memory(bench, args.sessions)
        finally:
            for server in bench.servers.values():
                server.stop()
        print("flood ...", flush=True)
        flood = run_flood(fake, env, workdir, credentials)
    DOCS.parent.mkdir(exist_ok=True)
    elapsed = time.perf_counter() - started
    DOCS.write_text(render(done, mem, args.sessions, djstripe, args, elapsed, flood))
    print(f"wrote {DOCS.relative_to(ROOT)}")
    return 0


def run_flood(
    fake: FakeStripe, env: dict[str, str], workdir: Path, credentials: Path
) -> tuple[list[FloodSide], str]:
    """The flood, without and with the budget, each on a server of its own."""
    sides = []
    with redis_url(workdir) as url:
        if url is None:
            return [], "**No flood row**: redis-server is not installed (apt-get install it)."
        for label, budget in [("no budget", ""), (f"SITE_SESSION_RATE = {BUDGET!r}", BUDGET)]:
            side_env = {**env, "REDIS_URL": url, "SITE_SESSION_RATE": budget}
            server = gunicorn(f"flood-{len(sides)}", side_env, workers=2).start(workdir)
            try:
                print(f"  flood: {label} ...", flush=True)
                side = flood_side(fake, label, server.port, credentials)
                sides.append(side)
                if any(status.startswith("5") and status != "503" for status in side.statuses):
                    print(f"  flood: {label}: server errors; its log ends:", flush=True)
                    print(server.output_tail(), flush=True)
            finally:
                server.stop()
    return sides, ""


def _customers(db: Path) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT u.id, u.email, c.customer_id FROM auth_user u "
            "JOIN customer_sessions_stripecustomer c ON c.user_id = u.id"
        ).fetchall()
    return [{"user": uid, "email": email, "customer": cus} for uid, email, cus in rows]


if __name__ == "__main__":
    sys.exit(main())
