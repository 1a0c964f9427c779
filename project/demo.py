"""``make demo``: set up the demo site and serve it on http://127.0.0.1:${PORT:-8000}/.

Run as ``python -m project.demo`` from the repository root. It

1. refuses live Stripe keys (``sk_live_``/``rk_live_``/``pk_live_``): the demo is for test mode;
2. without ``STRIPE_SECRET_KEY``, starts the project's Stripe double on 127.0.0.1 and points
   the site at it (every page then says that Stripe is simulated, and shows what it hands
   to Stripe.js in a labelled stand-in served by the demo: no network needed);
3. migrates the database (a SQLite file unless ``DATABASE_URL`` says otherwise);
4. makes sure the user ``demo`` (password ``demo``) exists;
5. serves the site with Django's development server until Ctrl-C (or SIGTERM), then stops
   the server and the double.

Running it again reuses the database and the user.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Any

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
LIVE_PREFIXES = ("sk_live_", "rk_live_", "pk_live_")
KEY_VARIABLES = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY")

LIVE_KEY_REFUSED = """\
{name} is a live-mode key ({prefix}…). The demo creates Stripe customers and payments for
whoever signs in, so it only runs in test mode. Use your test keys instead:

    STRIPE_SECRET_KEY=sk_test_… STRIPE_PUBLISHABLE_KEY=pk_test_… make demo

or unset both to use the project's Stripe double."""


def live_key_variable(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """The name of the first Stripe key variable holding a live-mode key, if any."""
    for name in KEY_VARIABLES:
        if environ.get(name, "").strip().startswith(LIVE_PREFIXES):
            return name
    return None


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ensure_demo_user() -> str:
    """Create the demo user, or give it back its password; says which."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user, created = user_model._default_manager.get_or_create(
        **{user_model.USERNAME_FIELD: DEMO_USERNAME}
    )
    if created or not user.check_password(DEMO_PASSWORD) or not user.is_active:
        user.set_password(DEMO_PASSWORD)
        user.is_active = True
        user.save()
    return "created" if created else "exists"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    port_text = os.environ.get("PORT", "8000")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        print(f"PORT={port_text!r} is not a port number.", file=sys.stderr)
        return 2
    port = int(port_text)
    live = live_key_variable(os.environ)
    if live is not None:
        prefix = os.environ[live].strip()[:8]
        print(LIVE_KEY_REFUSED.format(name=live, prefix=prefix), file=sys.stderr)
        return 2
    if not port_is_free(port):
        print(
            f"127.0.0.1:{port} is already in use (is the demo already running?). "
            f"Stop it, or choose another port: PORT={port + 1} make demo",
            file=sys.stderr,
        )
        return 1

    signal.signal(signal.SIGTERM, _interrupt)
    fake = None
    if not os.environ.get("STRIPE_SECRET_KEY", "").strip():
        from customer_sessions.testing import FakeStripe

        fake = FakeStripe().start()
        os.environ["STRIPE_API_BASE"] = fake.url
        os.environ["STRIPE_SECRET_KEY"] = fake.secret_key
        os.environ["STRIPE_PUBLISHABLE_KEY"] = fake.publishable_key
        # Stand-in ids, so that the pages show what they would hand Stripe's components.
        os.environ.setdefault("STRIPE_PRICING_TABLE_ID", "prctbl_simulated")
        os.environ.setdefault("STRIPE_BUY_BUTTON_ID", "buy_btn_simulated")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        state = ensure_demo_user()
        print()
        if fake is not None:
            print(f"Stripe is simulated: the project's Stripe double runs on {fake.url},")
            print("  and the pages show what they hand to Stripe.js, in a labelled stand-in.")
            print("  For Stripe itself: STRIPE_SECRET_KEY=sk_test_… STRIPE_PUBLISHABLE_KEY=…")
        else:
            print("Stripe: using STRIPE_SECRET_KEY (test mode).")
            if not os.environ.get("STRIPE_PUBLISHABLE_KEY"):
                print("  Set STRIPE_PUBLISHABLE_KEY (pk_test_…) too, or Stripe.js cannot load.")
        print(f"Demo user ({state}): username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}")
        print(f"Open http://127.0.0.1:{port}/  (Ctrl-C stops the demo)", flush=True)
        # Django's development server, without the autoreloader (one process to stop) and
        # serving static files even with DJANGO_DEBUG=0.
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
    except KeyboardInterrupt:
        pass
    finally:
        if fake is not None:
            fake.stop()
        print("Demo stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
