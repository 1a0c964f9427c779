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

import pytest
import trove_classifiers
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import noxfile

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
_SKIP = {".venv", ".nox", ".git", "dist", "build", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


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


def test_metadata_names_the_package(dist: Path) -> None:
    meta = _metadata(dist)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["Name"] == project["name"] == "django-customer-sessions"
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639: the expression
    # PyPI refuses an upload with a classifier it does not know (twine check does not).
    assert set(classifiers) <= trove_classifiers.classifiers
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload() == (ROOT / "README.md").read_text()
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert urls["Documentation"].startswith(urls["Source"])
    assert urls["Documentation"].endswith("/docs/index.md")


def _claimed(requirement: SpecifierSet, versions: list[str]) -> set[str]:
    return {version for version in versions if requirement.contains(version)}


# Django's feature releases: X.0, X.1, X.2 (the LTS), then (X+1).0.
DJANGO_SERIES = [f"{major}.{minor}" for major in range(4, 8) for minor in range(3)]
PYTHONS = [f"3.{minor}" for minor in range(8, 16)]


def test_metadata_claims_what_ci_tests_and_no_more(dist: Path) -> None:
    """The classifiers and the ranges of Python and Django are noxfile.py's matrix, and every
    dependency has an upper bound (no claim for releases nobody has tested)."""
    meta = _metadata(dist)
    tested_pythons = {python for python, _, _ in noxfile.MATRIX}
    tested_djangos = {django for _, django, _ in noxfile.MATRIX}
    classifiers = meta.get_all("Classifier")
    assert {c for c in classifiers if c.startswith("Programming Language :: Python :: 3.")} == {
        f"Programming Language :: Python :: {python}" for python in tested_pythons
    }
    assert {c for c in classifiers if c.startswith("Framework :: Django ::")} == {
        f"Framework :: Django :: {django}" for django in tested_djangos
    }
    requires_python = SpecifierSet(meta["Requires-Python"])
    assert _claimed(requires_python, [f"{p}.0" for p in PYTHONS]) == {
        f"{p}.0" for p in tested_pythons
    }
    requires = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    runtime = {r.name: r.specifier for r in requires if r.marker is None}
    assert set(runtime) == {"Django", "djangorestframework", "stripe"}
    assert _claimed(runtime["Django"], [f"{s}.0" for s in DJANGO_SERIES]) == {
        f"{s}.0" for s in tested_djangos
    }
    for name, specifier in runtime.items():
        assert any(spec.operator == "<" for spec in specifier), f"{name} has no upper bound"
    # What the matrix installs as "lowest" is a release the range admits.
    for name in noxfile.LOWEST:
        assert runtime[name].contains(noxfile.lowest(name).split("==")[1]), name


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
