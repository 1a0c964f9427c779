"""The built wheel in a new project, the way a newcomer gets there.

A fresh virtual environment (``python -m venv``) and pip install the wheel, which brings the
newest Django, Django REST framework and stripe-python the package admits for this Python;
then docs/quickstart.md is followed word for word: its commands run in order and its
files are written where it says (the ``startproject`` blocks of tests/test_docs.py).
Then a visitor signs in and gets a checkout page with a fresh secret, from the real
development server, talking to the Stripe double started as the quick start starts it.

What differs from a person at a terminal: free ports instead of 8000 and 12111,
``createsuperuser`` takes its answers from ``DJANGO_SUPERUSER_*`` (``--noinput``), and
``runserver`` runs without its autoreloader (one process to stop).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .servers import free_port
from .test_docs import ALL_BLOCKS, DOCS, QUICKSTART, startproject_command
from .test_packaging import _only, dist  # noqa: F401 (the fixture: the wheel users get)

PASSWORD = "a-long-first-password"
DOUBLE_PORT = "12111"  # the port docs/quickstart.md gives the Stripe double
SESSION_ELEMENT = re.compile(
    r'<script id="customer-session" type="application/json">(?P<json>.*?)</script>', re.S
)


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A new virtual environment with the wheel installed by pip, dependencies and all."""
    path = tmp_path_factory.mktemp("fresh") / "venv"
    run([sys.executable, "-m", "venv", path])
    run([path / "bin" / "python", "-m", "pip", "install", "-q", _only(dist, "*.whl")])
    return path


class Terminal:
    """Runs the quick start's command lines in the new project, as a shell would."""

    def __init__(self, venv: Path, wheel: Path, home: Path) -> None:
        self.venv = venv
        self.wheel = wheel
        self.cwd = home
        # Nothing of this test run's own site: its settings, database, Stripe keys or venv.
        ours = {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV"}
        self.env = {
            k: v for k, v in os.environ.items() if k not in ours and not k.startswith("STRIPE_")
        }
        self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
        self.ports = {DOUBLE_PORT: str(free_port())}
        self.site = f"http://127.0.0.1:{free_port()}"
        self.background: list[subprocess.Popen[bytes]] = []

    def type(self, line: str) -> None:
        words = startproject_command(line)
        if words is None:
            return
        for documented, free in self.ports.items():
            words = [word.replace(documented, free) for word in words]
        if words[0] == "cd":
            self.cwd = self.cwd / words[1]
        elif words[0] == "export":
            self.env.update(word.split("=", 1) for word in words[1:])
        elif words[:2] == ["pip", "install"]:
            # Not on the index yet: the wheel under test stands for the published name.
            wheel = str(self.wheel)
            words = [w.replace("django-customer-sessions", wheel) for w in words]
            run(["python", "-m", *words], cwd=self.cwd, env=self.env)
        elif words[:3] == ["python", "-m", "customer_sessions.testing"]:
            self.start(words, ready="Fake Stripe listening on http://127.0.0.1:")
        elif words[:3] == ["python", "manage.py", "runserver"]:
            self.start([*words, "--noreload", self.site.removeprefix("http://")], "Quit the")
        elif words[:3] == ["python", "manage.py", "createsuperuser"]:
            answers = {
                "DJANGO_SUPERUSER_USERNAME": "ada",
                "DJANGO_SUPERUSER_EMAIL": "ada@example.com",
                "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            }
            run([*words, "--noinput"], cwd=self.cwd, env={**self.env, **answers})
        else:
            run(words, cwd=self.cwd, env=self.env)

    def write(self, name: str, code: str) -> None:
        """A block of the quick start: appended to an existing file, or a new one."""
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.read_text() + "\n\n" if path.exists() else ""
        path.write_text(before + code)

    def start(self, words: list[str], ready: str) -> None:
        log = self.cwd / f"{words[2]}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 (the venv's own commands)
                words,
                cwd=self.cwd,
                env={**self.env, "PYTHONUNBUFFERED": "1"},  # to see when it is ready
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.background.append(process)
        deadline = time.monotonic() + 60
        while ready not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{words} did not start:\n{log.read_text()}"
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.background:
            process.terminate()
        for process in self.background:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def terminal(venv: Path, dist: Path, tmp_path: Path) -> Iterator[Terminal]:  # noqa: F811
    terminal = Terminal(venv, _only(dist, "*.whl"), tmp_path)
    try:
        yield terminal
    finally:
        terminal.stop()


def secret_on(page: requests.Response) -> str:
    match = SESSION_ELEMENT.search(page.text)
    assert match, page.text
    return str(json.loads(match["json"])["client_secret"])


def test_the_quick_start_word_for_word_gives_a_checkout_page_with_a_secret(
    terminal: Terminal,
) -> None:
    for block in QUICKSTART:
        if block.options:
            terminal.write(block.options[0], block.code)
        else:
            for line in block.code.splitlines():
                terminal.type(line)

    check = run(["python", "manage.py", "check"], cwd=terminal.cwd, env=terminal.env)
    assert check.stdout.strip() == "System check identified no issues (0 silenced)."

    browser = requests.Session()
    page = browser.get(f"{terminal.site}/checkout/", timeout=20)
    assert page.url == f"{terminal.site}/accounts/login/?next=/checkout/"
    assert 'name="username"' in page.text and 'name="password"' in page.text
    page = browser.post(
        page.url,
        data={
            "username": "ada",
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        timeout=20,
    )
    assert page.url == f"{terminal.site}/checkout/", page.text
    first = secret_on(page)
    assert first.startswith("cuss_secret_")
    assert page.text.count(first) == 1
    assert "no-store" in page.headers["Cache-Control"]
    assert 'Stripe("pk_test_local")' in page.text

    again = secret_on(browser.get(f"{terminal.site}/checkout/", timeout=20))
    assert again.startswith("cuss_secret_") and again != first

    answer = browser.post(
        f"{terminal.site}/api/customer-session/",
        json={},
        headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        timeout=20,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["client_secret"] not in (first, again)

    # Then the webhook, as docs/webhooks.md adds it, and the admin and backfill command.
    (webhook,) = [
        b
        for b in ALL_BLOCKS
        if b.path == DOCS / "webhooks.md" and b.kind == "settings" and "WEBHOOK" in b.code
    ]
    terminal.write("shop/settings.py", webhook.code)
    terminal.env["STRIPE_WEBHOOK_SECRET"] = "whsec_fresh_project"
    result = run(
        ["python", "manage.py", "shell", "-c", AFTERWARDS],
        cwd=terminal.cwd,
        env={**terminal.env, "FRESH_VENV": str(terminal.venv)},
    )
    assert "fresh project: all good" in result.stdout, result.stdout + result.stderr


# Run in the project with ``manage.py shell``: the parts of the wheel the quick start does
# not show (the admin, the backfill command, the webhook), on the same database and double.
AFTERWARDS = r"""
import hashlib, hmac, json, os, sys, time
from pathlib import Path

import customer_sessions
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

installed = Path(customer_sessions.__file__).resolve()
assert installed.is_relative_to(Path(os.environ["FRESH_VENV"])), installed

User = get_user_model()
ada = User.objects.get(username="ada")
customer = ada.stripe_customers.get().customer_id

# The admin lists the mapping (the runserver's development host is allowed).
admin = Client(HTTP_HOST="127.0.0.1")
admin.force_login(ada)
page = admin.get("/admin/customer_sessions/stripecustomer/")
assert page.status_code == 200 and customer in page.content.decode()

# The backfill command gives a user who never opened the checkout a customer.
bob = User.objects.create_user("bob", "bob@example.com", "pw")
call_command("customer_sessions_backfill", stdout=sys.stderr)
assert bob.stripe_customers.exclude(customer_id="").count() == 1

# The webhook: Stripe deleted ada's customer.
payload = json.dumps({
    "id": "evt_fresh", "object": "event", "type": "customer.deleted", "livemode": False,
    "data": {"object": {"id": customer, "object": "customer", "deleted": True}},
})
now = int(time.time())
mac = hmac.new(b"whsec_fresh_project", f"{now}.{payload}".encode(), hashlib.sha256)
response = Client(HTTP_HOST="127.0.0.1").post(
    "/api/webhook/", payload, content_type="application/json",
    headers={"Stripe-Signature": f"t={now},v1={mac.hexdigest()}"},
)
assert response.status_code == 200, response.content
assert not ada.stripe_customers.exclude(customer_id="").exists()
print("fresh project: all good")
"""


def run(
    args: list[Any], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 (the venv's own commands, files this test wrote)
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result
