"""Run by hand (``__main__.py``): ``python -m customer_sessions.testing``."""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
from collections.abc import Iterator

import pytest
import stripe


@contextlib.contextmanager
def run_double(*args: str) -> Iterator[tuple[list[str], subprocess.Popen[str]]]:
    """``python -m customer_sessions.testing`` with ``args``: the lines it printed, and it."""
    process = subprocess.Popen(  # noqa: S603 - this interpreter, the package's own module
        [sys.executable, "-m", "customer_sessions.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "the double printed nothing within 20 s"
        lines = [process.stdout.readline().rstrip("\n")]
        while not lines[-1].startswith("Any well-formed"):  # printed at once, then flushed
            lines.append(process.stdout.readline().rstrip("\n"))
        yield lines, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def printed(lines: list[str], label: str) -> list[str]:
    return [line.split("=", 1)[1].strip() for line in lines if line.strip().startswith(label)]


def test_by_hand_on_every_interface_warns_and_prints_urls_a_client_can_use():
    with run_double("--host", "0.0.0.0") as (lines, process):  # noqa: S104 - the case tested
        (api_base,) = printed(lines, "API_BASE")
        (key,) = printed(lines, "SECRET_KEY")
        assert api_base.startswith("http://127.0.0.1:")
        customer = stripe.StripeClient(
            key, base_addresses={"api": api_base}, max_network_retries=0
        ).v1.customers.create()
        assert customer.id.startswith("cus_")
        elsewhere = printed(lines, "from elsewhere")
        assert elsewhere and all(url.endswith(api_base.rsplit(":", 1)[1]) for url in elsewhere)
        assert not any("0.0.0.0" in url for url in [api_base, *elsewhere])  # noqa: S104
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "WARNING: the Stripe double has no authentication" in errors


def test_by_hand_on_loopback_says_nothing_of_authentication():
    with run_double() as (lines, process):
        assert lines[0].startswith("Fake Stripe listening on http://127.0.0.1:")
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "WARNING" not in errors


def test_by_hand_with_a_write_limit_answers_rate_limit_past_it():
    with run_double("--write-limit", "2") as (lines, _):
        (api_base,) = printed(lines, "API_BASE")
        (key,) = printed(lines, "SECRET_KEY")
        client = stripe.StripeClient(key, base_addresses={"api": api_base}, max_network_retries=0)
        client.v1.customers.create()
        client.v1.customers.create()
        with pytest.raises(stripe.RateLimitError) as info:
            client.v1.customers.create()
        assert info.value.error is not None and info.value.error.code == "rate_limit"


def test_by_hand_a_write_limit_below_one_is_a_usage_error():
    result = subprocess.run(  # noqa: S603 - this interpreter, the package's own module
        [sys.executable, "-m", "customer_sessions.testing", "--write-limit", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "positive number of writes" in result.stderr
