"""Real server processes for the reliability tests: the demo site under gunicorn, Redis.

The servers see the test database (its connection URL goes to them as ``DATABASE_URL``)
and the session's Stripe double (``STRIPE_API_BASE``), exactly as a deployment would see
its database and Stripe. A user signs in the way a browser does: with a session cookie
that Django's session store issued, and a CSRF cookie plus the matching header.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """The URL of the database the tests run on (the test database), for another process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{auth}@{host}{port}/{db['NAME']}"
    raise NotImplementedError(db["ENGINE"])


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class Site:
    """The demo site served by gunicorn in its own processes."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.name = ""
        self.url = url
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(
    args: Sequence[str],
    *,
    stripe_url: str,
    stripe_key: str,
    env: Mapping[str, str] = {},
    app: str = "project.wsgi:application",
) -> Iterator[Site]:
    """The demo site under ``gunicorn <args>`` on a free port, stopped on exit.

    ``app`` is the WSGI application, or ``project.asgi:application`` with uvicorn's worker
    class in ``args``."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": database_url(),
        "STRIPE_SECRET_KEY": stripe_key,
        "STRIPE_API_BASE": stripe_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--backlog",
        "256",
        *args,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=out, stderr=out)  # noqa: S603 - our own command line
    site = Site(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(site)
        yield site
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


def _wait_until_up(site: Site, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if site.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{site.output()}")
        try:
            # Any answer will do; the first one may be slow on a busy machine.
            requests.get(site.url + "/api/customer-session/", timeout=(2, 30))
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{site.output()}")


def browser_cookies(user: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(cookies, headers) of a browser signed in as ``user`` that passes the CSRF check.

    The session is created by Django's own login machinery and stored in the database, so
    every server process can read it.
    """
    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret, as Django's cookie holds
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    cookies[settings.CSRF_COOKIE_NAME] = csrf
    return cookies, {"X-CSRFToken": csrf}


@contextmanager
def redis_server() -> Iterator[str]:
    """A Redis URL: ``TEST_REDIS_URL`` when set (CI starts one), else a private redis-server.

    The private server listens on a Unix socket in a temporary directory only, saves
    nothing, and stops on exit.
    """
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    directory = Path(tempfile.mkdtemp(prefix="redis-"))
    sock = directory / "redis.sock"
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [binary, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"unix://{sock}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
