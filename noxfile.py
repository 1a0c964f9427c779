"""The supported versions, each tested: ``nox`` (``pip install -e ".[dev]"`` brings it).

One session per combination of ``MATRIX``: a Python, a Django release series, and
``newest`` or ``lowest`` for the other dependencies. ``newest`` takes the newest releases
pyproject.toml admits; ``lowest`` pins each package named in ``LOWEST`` to the lower bound
pyproject.toml gives it (``djangorestframework>=3.18`` installs 3.18.0). To test one more
dependency at its lowest release, add its name to ``LOWEST``. tests/test_packaging.py
checks pyproject.toml's classifiers and ranges against ``MATRIX``.

    nox -l                                   # the sessions
    nox                                      # all of them (what CI runs)
    nox -s "tests(python='3.13', django='6.1', deps='newest')" -- -k checks
    nox -t quick -j 2 --allow-parallel       # two at a time (timed tests may then flake)
    DATABASE_URL=postgres://… nox -s …       # on PostgreSQL instead of SQLite

The browser tests and those that start servers or a fresh project (``SLOW``) run in one
session only, ``FULL`` (and in ``make test``); the others run the rest of the suite. The
Pythons are found on ``PATH`` as python3.11, python3.12 and python3.13 (with pyenv:
``PYENV_VERSION=3.11.7:3.12.1:3.13.0``); none is downloaded.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
# A Python of the matrix missing on this machine fails the run instead of being skipped.
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"

ROOT = Path(__file__).resolve().parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REQUIREMENTS = {Requirement(spec).name: Requirement(spec) for spec in PROJECT["dependencies"]}

# Each supported Django release series, with the Pythons it is tested on.
DJANGO_PYTHONS = {
    "5.2": ["3.11", "3.12", "3.13"],
    "6.0": ["3.12", "3.13"],
    "6.1": ["3.12", "3.13"],
}
# Dependencies also tested at the lowest release pyproject.toml admits.
LOWEST = ["djangorestframework", "stripe"]

# (python, django, deps): every Django series on each of its Pythons, once: on its oldest
# Python with the LOWEST releases, on the others with the newest. So each series meets
# both ends of every range, in 7 sessions instead of 10 (a CI run stays under 45 minutes);
# make test adds the oldest Python with the newest releases.
MATRIX = [
    (python, django, "lowest" if python == pythons[0] else "newest")
    for django, pythons in DJANGO_PYTHONS.items()
    for python in pythons
]
# The newest Django on the newest Python, where a new project starts: the whole suite.
FULL = ("3.13", "6.1", "newest")
# The same on every version, and slow: the browser, server processes, a fresh project.
SLOW = [
    "tests/browser",
    "tests/reliability/test_races_multiprocess.py",
    "tests/reliability/test_throttle_redis.py",
    "tests/reliability/test_site_budget.py",
    "tests/reliability/test_console_logging.py",
    "tests/test_fresh_project.py",
]


def lowest(name: str) -> str:
    """``name==X`` for the ``>=X`` lower bound pyproject.toml gives ``name``."""
    bounds = [spec.version for spec in REQUIREMENTS[name].specifier if spec.operator == ">="]
    if len(bounds) != 1:
        raise ValueError(f"pyproject.toml gives {name} no single >= lower bound")
    return f"{name}=={bounds[0]}"


def pins(django: str, deps: str) -> list[str]:
    """What a session installs besides ``.[dev]``: its Django series, and the LOWEST pins."""
    major, minor = django.split(".")
    requirements = [f"Django>={django},<{major}.{int(minor) + 1}"]
    if deps == "lowest":
        requirements += [lowest(name) for name in LOWEST]
    return requirements


@nox.session
@nox.parametrize(
    ("python", "django", "deps"),
    MATRIX,
    tags=[["full"] if combination == FULL else ["quick"] for combination in MATRIX],
)
def tests(session: nox.Session, django: str, deps: str) -> None:
    """The test suite on one combination of the supported versions."""
    session.install("-e", ".[dev]", *pins(django, deps))
    # A test database of its own, so that two sessions can run at the same time (nox -j 2).
    session.env["SQLITE_TEST_NAME"] = str(Path(session.bin).parent / "test.sqlite3")
    session.run("python", "-c", VERSIONS)
    # Each Django series sees the app's migrations as complete (a new one would reach users).
    session.run("python", "manage.py", "makemigrations", "--check", "--dry-run", "-v", "0")
    skip = [] if (session.python, django, deps) == FULL else [f"--ignore={p}" for p in SLOW]
    session.run("pytest", "-p", "no:cacheprovider", *skip, *session.posargs)


# Printed first, for the log: the versions the session really has.
VERSIONS = """\
import platform
from importlib.metadata import version
names = ["Django", "djangorestframework", "stripe"]
print("Python", platform.python_version(), *(f"{n} {version(n)}" for n in names))
"""
