"""What `pip install django-customer-sessions` gets: the app, and nothing of the repository.

The wheel and sdist are built the way ``python -m build`` builds them (``make package``
builds them with an isolated build environment, as pip does, and runs these tests on that
``dist/`` through ``PACKAGE_DIST``; otherwise they are built here from a copy of the
checkout without isolation).
"""

from __future__ import annotations

import email
import email.message
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "customer_sessions"
DIST_INFO = "django_customer_sessions-0.1.0.dist-info"
SDIST_ROOT = "django_customer_sessions-0.1.0"

# What the app needs at run time besides its Python modules.
DATA_FILES = {
    f"{PACKAGE}/py.typed",
    f"{PACKAGE}/testing/stripe_schema.json",
}
# Never shipped: the demo site, the test suite, the maintainers' tools, the docs sources.
REPOSITORY_ONLY = ("project/", "tests/", "templates/", "tools/", "docs/", "manage.py")
_SKIP = {".venv", ".git", "dist", "build", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def _copy_checkout(dest: Path) -> None:
    for entry in ROOT.iterdir():
        if entry.name in _SKIP or entry.name.endswith((".egg-info", ".sqlite3")):
            continue
        if entry.is_dir():
            shutil.copytree(
                entry, dest / entry.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(entry, dest / entry.name)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("PACKAGE_DIST")
    if given:
        return Path(given).resolve()
    src = tmp_path_factory.mktemp("checkout")
    _copy_checkout(src)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(  # noqa: S603 (fixed arguments: this interpreter and a temp dir)
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    return out


def _only(directory: Path, pattern: str) -> Path:
    (found,) = directory.glob(pattern)
    return found


def _source_files() -> set[str]:
    """Every file of the app in the checkout (what the wheel must hold, no more, no less)."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _metadata(dist: Path) -> email.message.Message:
    with zipfile.ZipFile(_only(dist, "*.whl")) as wheel:
        return email.message_from_string(wheel.read(f"{DIST_INFO}/METADATA").decode("utf-8"))


def test_wheel_holds_exactly_the_app_and_its_metadata(dist: Path) -> None:
    with zipfile.ZipFile(_only(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
    app = {name for name in names if not name.startswith(f"{DIST_INFO}/")}
    assert app == _source_files()
    assert DATA_FILES <= app
    assert f"{PACKAGE}/migrations/0001_initial.py" in app
    assert f"{PACKAGE}/templatetags/customer_sessions.py" in app
    assert names - app == {
        f"{DIST_INFO}/{name}"
        for name in (
            "METADATA",
            "WHEEL",
            "RECORD",
            "entry_points.txt",
            "top_level.txt",
            "licenses/LICENSE",
        )
    }


def test_every_app_directory_with_modules_is_a_package() -> None:
    """A directory without ``__init__.py`` would silently be left out of the wheel."""
    for directory in {Path(name).parent for name in _source_files() if name.endswith(".py")}:
        assert (ROOT / directory / "__init__.py").is_file(), directory


def test_sdist_holds_the_app_readme_and_license_only(dist: Path) -> None:
    with tarfile.open(_only(dist, "*.tar.gz")) as sdist:
        names = {m.name.removeprefix(f"{SDIST_ROOT}/") for m in sdist.getmembers() if m.isfile()}
    assert {name for name in names if name.startswith(f"{PACKAGE}/")} == _source_files()
    assert {"README.md", "LICENSE", "pyproject.toml", "PKG-INFO"} <= names
    leaked = sorted(n for n in names if n.startswith(REPOSITORY_ONLY))
    assert leaked == []


def test_metadata_states_what_ci_runs(dist: Path) -> None:
    meta = _metadata(dist)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["Name"] == project["name"] == "django-customer-sessions"
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.11"
    classifiers = set(meta.get_all("Classifier"))
    # CI runs Python 3.11 and Django 5.2 (SQLite and PostgreSQL 15): claim those, no others.
    assert {c for c in classifiers if c.startswith("Programming Language :: Python :: 3.")} == {
        "Programming Language :: Python :: 3.11"
    }
    assert {c for c in classifiers if c.startswith("Framework :: Django ::")} == {
        "Framework :: Django :: 5.2"
    }
    assert "Typing :: Typed" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639: the expression
    requires = meta.get_all("Requires-Dist")
    assert "Django<6.0,>=5.2" in requires
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload() == (ROOT / "README.md").read_text()


def test_license_file_is_mit(dist: Path) -> None:
    with zipfile.ZipFile(_only(dist, "*.whl")) as wheel:
        text = wheel.read(f"{DIST_INFO}/licenses/LICENSE").decode()
    assert text.startswith("MIT License")
    assert text == (ROOT / "LICENSE").read_text()


def test_pytest_plugin_entry_point_is_declared(dist: Path) -> None:
    """Sites that install the wheel get the ``fake_stripe`` fixture without configuration."""
    with zipfile.ZipFile(_only(dist, "*.whl")) as wheel:
        entry_points = wheel.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert "[pytest11]\ncustomer_sessions = customer_sessions.testing.pytest_plugin" in entry_points


def test_twine_accepts_the_distributions(dist: Path) -> None:
    """``twine check --strict``: PyPI would accept the upload and render the README."""
    files = [str(p) for p in sorted(dist.iterdir())]
    result = subprocess.run(  # noqa: S603 (fixed arguments: this interpreter and dist/)
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


FRESH_SETTINGS = """
# --- the quick start (docs/quickstart.md), step 2 ---
import os

INSTALLED_APPS += ["rest_framework", "customer_sessions"]
MIDDLEWARE += ["customer_sessions.middleware.CustomerSessionMiddleware"]
DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE"}
CUSTOMER_SESSIONS = {
    "SECRET_KEY": os.environ["STRIPE_SECRET_KEY"],
    "PUBLISHABLE_KEY": os.environ["STRIPE_PUBLISHABLE_KEY"],
    "API_BASE": os.environ["STRIPE_API_BASE"],
    "WEBHOOK_SECRET": "whsec_fresh_project",
}
ALLOWED_HOSTS = ["testserver"]  # Django's test client, used by the script below
"""

FRESH_URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("customer_sessions.urls")),
]
"""

# What a new user tries, run inside the fresh project with the installed wheel.
FRESH_SCRIPT = r"""
import hashlib, hmac, json, os, sys, time
from pathlib import Path
from typing import Any

import customer_sessions
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.template import engines
from django.test import Client, RequestFactory

site = Path(os.environ["FRESH_SITE"]).resolve()
assert Path(customer_sessions.__file__).resolve().is_relative_to(site), customer_sessions.__file__

User = get_user_model()
ada = User.objects.create_user("ada", "ada@example.com", "pw")
client = Client()
client.force_login(ada)

# The endpoint.
response = client.post("/api/customer-session/", {}, content_type="application/json")
assert response.status_code == 201, response.content
assert response["Cache-Control"].count("no-store") == 1

# The template tag (quick start, step 5).
request = RequestFactory().get("/checkout/")
request.user = ada
html = engines["django"].from_string(
    "{% load customer_sessions %}{% customer_session %}"
).render({}, request)
assert '<script id="customer-session" type="application/json">' in html

# The admin.
root = User.objects.create_superuser("root", "root@example.com", "pw")
admin = Client()
admin.force_login(root)
page = admin.get("/admin/customer_sessions/stripecustomer/")
customer = ada.stripe_customers.get().customer_id
assert page.status_code == 200 and customer in page.content.decode()

# The backfill command gives the superuser a customer too.
call_command("customer_sessions_backfill", stdout=sys.stderr)
assert root.stripe_customers.exclude(customer_id="").count() == 1

# The webhook: Stripe deleted ada's customer.
payload = json.dumps({
    "id": "evt_fresh", "object": "event", "type": "customer.deleted", "livemode": False,
    "data": {"object": {"id": customer, "object": "customer", "deleted": True}},
})
now = int(time.time())
mac = hmac.new(b"whsec_fresh_project", f"{now}.{payload}".encode(), hashlib.sha256)
response = Client().post(
    "/api/webhook/", payload, content_type="application/json",
    headers={"Stripe-Signature": f"t={now},v1={mac.hexdigest()}"},
)
assert response.status_code == 200, response.content
assert not ada.stripe_customers.exclude(customer_id="").exists()
print("fresh project: all good")
"""


def test_wheel_works_in_a_fresh_project(dist: Path, tmp_path: Path, fake_stripe: Any) -> None:
    """Installed from the wheel into a new ``startproject`` and set up as the quick start
    says: ``migrate`` and ``check`` pass, and the endpoint, the tag, the admin, the backfill
    command and the webhook work against the Stripe double."""
    site, project = tmp_path / "site", tmp_path / "project"
    wheel = _only(dist, "*.whl")
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheel])
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")},
        "PYTHONPATH": str(site),
        "FRESH_SITE": str(site),
        "STRIPE_SECRET_KEY": fake_stripe.secret_key,
        "STRIPE_PUBLISHABLE_KEY": fake_stripe.publishable_key,
        "STRIPE_API_BASE": fake_stripe.url,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    project.mkdir()
    _run([sys.executable, "-m", "django", "startproject", "shop", project], env=env, cwd=tmp_path)
    with (project / "shop" / "settings.py").open("a") as settings_file:
        settings_file.write(FRESH_SETTINGS)
    (project / "shop" / "urls.py").write_text(FRESH_URLS)

    manage = [sys.executable, "manage.py"]
    _run([*manage, "migrate", "-v0"], env=env, cwd=project)
    check = _run([*manage, "check"], env=env, cwd=project)
    assert "System check identified no issues" in check.stdout
    result = _run([*manage, "shell", "-c", FRESH_SCRIPT], env=env, cwd=project)
    assert "fresh project: all good" in result.stdout

    assert len(fake_stripe.customers) == 2
    assert len(fake_stripe.customer_sessions) == 2


def _run(
    args: list[Any], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 (this interpreter, files this test wrote)
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result
