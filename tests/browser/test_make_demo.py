"""``make demo`` (``python -m project.demo``) as a newcomer runs it: real processes, real ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def demo_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "DJANGO_", "DATABASE_URL", "SQLITE_"))
    }
    env.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class Demo:
    def __init__(self, tmp_path: Path, port: int, name: str) -> None:
        self.log = tmp_path / f"{name}.log"
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "project.demo"],
                cwd=ROOT,
                env=demo_env(tmp_path, port),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            if "Quit the server" in self.output() and accepts(self.url):
                return
            time.sleep(0.1)
        raise AssertionError(f"the demo did not start:\n{self.output()}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=20)


@pytest.fixture
def port() -> int:
    return free_port()


def test_make_demo_serves_the_site_on_the_double_and_stops_everything_on_ctrl_c(
    tmp_path: Path, port: int
) -> None:
    demo = Demo(tmp_path, port, "first")
    try:
        demo.wait_until_serving()
        output = demo.output()
        assert "username 'demo', password 'demo'" in output
        assert f"Open http://127.0.0.1:{port}/" in output
        double = re.search(r"Stripe double runs on (http://127\.0\.0\.1:\d+)", output)
        assert double is not None, output
        assert accepts(double.group(1))

        browser = requests.Session()
        home = browser.get(demo.url + "/", timeout=10)
        assert "Stripe is simulated" in home.text
        browser.get(demo.url + "/accounts/login/", timeout=10)
        signed_in = browser.post(
            demo.url + "/accounts/login/?next=/checkout/",
            data={
                "username": "demo",
                "password": "demo",
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            timeout=10,
        )
        assert signed_in.url == demo.url + "/checkout/"
        assert re.search(r'"client_secret": "cuss_secret_\w+"', signed_in.text)
        # Stripe.js is the demo's own labelled stand-in: the page needs no network.
        assert "js.stripe.com/v3" not in signed_in.text
        stand_in = re.search(r'<script src="(/static/demo/stripe-stand-in\.js)">', signed_in.text)
        assert stand_in is not None, signed_in.text
        script = browser.get(demo.url + stand_in.group(1), timeout=10)
        assert script.status_code == 200 and "Stripe.js stand-in" in script.text

        # A second demo on the same port says so instead of failing obscurely.
        second = subprocess.run(
            [sys.executable, "-m", "project.demo"],
            cwd=ROOT,
            env=demo_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"127.0.0.1:{port} is already in use" in second.stderr
    finally:
        if demo.process.poll() is None:
            assert demo.stop(signal.SIGINT) == 0
    assert "Demo stopped." in demo.output()
    assert not accepts(demo.url)
    assert not accepts(double.group(1))

    # Starting again reuses the database and the user; SIGTERM stops it as cleanly.
    again = Demo(tmp_path, port, "again")
    try:
        again.wait_until_serving()
        assert "Demo user (exists): username 'demo', password 'demo'" in again.output()
    finally:
        assert again.stop(signal.SIGTERM) == 0
    assert not accepts(again.url)


@pytest.mark.parametrize(
    ("variable", "key"),
    [
        ("STRIPE_SECRET_KEY", "sk_live_abc123"),
        ("STRIPE_SECRET_KEY", "rk_live_abc123"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_live_abc123"),
    ],
)
def test_make_demo_refuses_a_live_key(tmp_path: Path, port: int, variable: str, key: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "project.demo"],
        cwd=ROOT,
        env=demo_env(tmp_path, port, **{variable: key}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{variable} is a live-mode key ({key[:8]}…)" in result.stderr
    assert "STRIPE_SECRET_KEY=sk_test_… STRIPE_PUBLISHABLE_KEY=pk_test_… make demo" in (
        result.stderr
    )
    assert "abc123" not in result.stderr + result.stdout
    assert not (tmp_path / "demo.sqlite3").exists()
