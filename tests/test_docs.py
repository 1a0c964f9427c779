"""Every code example in README.md and docs/*.md runs here, so the docs cannot drift.

How a fenced block is run follows from its language, or from a marker comment on the line
right before the fence (``<!-- docs-test: KIND [options] -->``, invisible once rendered):

- ``python``: executed with ``fake_stripe`` serving Stripe and these names bound:
  ``user`` (a signed-in, active user), ``request`` (a GET request of that user) and
  ``client`` (a test client signed in as that user). Top-level ``await`` is allowed (the
  block then runs as a coroutine). Blocks that ``await`` or mention ``async`` run in a
  transactional test: async code reaches the database from other threads. A block that
  assigns UPPERCASE names or defines ``test_*`` functions must be marked ``settings`` or
  ``pytest``: run as plain Python it would prove nothing. A top-level function taking
  exactly ``request`` is called with a POST (or, if it answers 405, a GET) request of
  the user; a response must be below 400.
- ``python`` + ``settings [deploy] [expect=ID,ID]``: a settings.py fragment. ``[..., x]``
  means "the existing list plus x". The names it assigns are applied with
  ``override_settings`` (environment variables such as ``STRIPE_SECRET_KEY`` hold test
  keys), ``CUSTOMER_SESSIONS`` must only use known keys, and ``manage.py check``
  (``--deploy`` with ``deploy``) must report exactly the ``customer_sessions.*`` ids in
  ``expect`` (none by default).
- ``python`` + ``pytest``: defines ``test_*`` functions; each is called with the pytest
  fixtures its parameters name (``fake_stripe``, ``client``, ``django_user_model`` …).
- ``python`` + ``urls``: a urls.py; with it as ``ROOT_URLCONF`` the signed-in user's
  ``POST`` to the app's endpoint must answer 201 with a fresh secret.
- ``python`` + ``default KEY``: the literal default of ``CUSTOMER_SESSIONS[KEY]``, compared
  with ``customer_sessions.conf.DEFAULTS``.
- ``django`` / ``html``: rendered by Django's template engine for the signed-in user, with
  ``stripe_publishable_key`` in the context; an undefined variable fails, every secret the
  page created must appear in it, and inline scripts must parse (``node --check``).
- ``js`` / ``javascript``: must parse (``node --check``).
- ``json``, ``toml``: must parse.
- ``sh`` / ``shell`` / ``console``: each line must be one this file knows how to check:
  ``pip install`` (package and extras exist), ``python manage.py <command>`` (run with
  ``call_command``; long-running commands are refused), ``python -m
  customer_sessions.testing`` (started, must print its URL).
- ``startproject [FILE]`` (docs/quickstart.md only): a step of the quick start, followed
  word for word by tests/test_fresh_project.py in a new ``django-admin startproject`` site
  with the built wheel: a ``sh`` block's commands are run there in order, a ``python`` or
  ``django`` block is appended to FILE (or becomes FILE, if new). Here each block is only
  checked: Python compiles, a template parses, a command is one that test knows.
- ``skip: <why>``: not run; the reason is required. Anything else fails
  ``test_every_example_is_run_or_says_why``.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import tomllib
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib import admin
from django.core import checks
from django.core.management import call_command
from django.http import HttpResponseBase
from django.template import Engine, RequestContext, engines
from django.test import RequestFactory, override_settings
from django.urls import reverse
from packaging.version import Version

import noxfile
from customer_sessions import conf
from customer_sessions.testing import FakeStripe

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SOURCES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
NODE = shutil.which("node")

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<info>[^`]*)$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<spec>.*?)\s*-->\s*$")
LANGUAGES = {
    "python": "python",
    "py": "python",
    "django": "template",
    "html+django": "template",
    "html": "template",
    "js": "javascript",
    "javascript": "javascript",
    "sh": "shell",
    "shell": "shell",
    "bash": "shell",
    "console": "shell",
    "json": "json",
    "toml": "toml",
}
PYTHON_KINDS = {"settings", "pytest", "default", "urls"}


@dataclass
class Block:
    path: Path
    line: int
    language: str
    code: str
    marker: str | None
    kind: str | None = None
    options: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        marker = MARKER.match(lines[before]) if before >= 0 else None
        block = Block(
            path=path,
            line=start + 1,
            language=info.split()[0].lower() if info else "",
            code="\n".join(body) + "\n",
            marker=marker["spec"] if marker else None,
        )
        _classify(block)
        yield block


def _assigned(block: Block) -> list[str]:
    """The settings a fragment sets: ``NAME = …`` or ``NAME[…] = …`` at top level."""
    names = []
    for node in ast.parse(block.code).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            while isinstance(target, ast.Subscript | ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name) and target.id.isupper():
                names.append(target.id)
    return names


def _classify(block: Block) -> None:
    base = LANGUAGES.get(block.language)
    if block.marker is None:
        block.kind = base
        if base == "python" and _assigned(block):
            block.problem = "assigns settings: mark it <!-- docs-test: settings -->"
        elif base == "python" and re.search(r"^(async )?def test_", block.code, flags=re.M):
            block.problem = "defines tests: mark it <!-- docs-test: pytest -->"
        elif base is None:
            block.problem = (
                f"a ```{block.language or '(no language)'} block that no test runs: use a "
                "language this file runs, or mark it <!-- docs-test: skip: <why> -->"
            )
        return
    if block.marker.startswith("skip"):
        reason = block.marker.removeprefix("skip").lstrip(":").strip()
        block.kind = "skip"
        if len(reason) < 10:
            block.problem = "<!-- docs-test: skip: … --> needs a reason a reader would accept"
        return
    kind, *options = block.marker.split()
    block.kind, block.options = kind, options
    if kind == "startproject":
        if block.path.name != "quickstart.md":
            block.problem = "startproject blocks are the quick start's (docs/quickstart.md)"
        elif base not in {"python", "template", "shell"} or (base == "shell") == bool(options):
            block.problem = "startproject: a sh block of commands, or a FILE for python/django"
        return
    if kind not in PYTHON_KINDS or base != "python":
        block.problem = f"unknown marker {block.marker!r} on a ```{block.language} block"


ALL_BLOCKS = [block for source in SOURCES for block in _blocks(source)]
RUNNABLE = [b for b in ALL_BLOCKS if b.problem is None and b.kind != "skip"]


def _param(block: Block) -> Any:
    # Async code (an await, an async view or URLconf) reaches the database from other
    # threads, which only see committed rows.
    is_async = "async" in block.code or "await " in block.code
    # Commands such as the backfill work from worker threads too.
    transaction = is_async or block.kind == "shell"
    return pytest.param(block, id=block.where, marks=pytest.mark.django_db(transaction=transaction))


def test_docs_exist_and_have_examples() -> None:
    assert (DOCS / "index.md").is_file()
    assert len(RUNNABLE) >= 20


def test_every_example_is_run_or_says_why() -> None:
    problems = [f"{b.where}: {b.problem}" for b in ALL_BLOCKS if b.problem]
    assert problems == []


@pytest.mark.parametrize("block", [_param(b) for b in RUNNABLE])
def test_example(block: Block, request: pytest.FixtureRequest) -> None:
    runner = {
        "python": _run_python,
        "settings": _run_settings,
        "pytest": _run_pytest,
        "default": _run_default,
        "urls": _run_urls,
        "template": _run_template,
        "javascript": _run_javascript,
        "shell": _run_shell,
        "json": _run_json,
        "toml": _run_toml,
        "startproject": _check_startproject,
    }[block.kind or ""]
    runner(block, request)


# --- python ------------------------------------------------------------------------------


def _request_of(user: Any, method: str = "get") -> Any:
    http_request = getattr(RequestFactory(), method)("/checkout/")
    http_request.user = user

    async def auser() -> Any:
        return user

    http_request.auser = auser
    return http_request


def _signed_in(request: pytest.FixtureRequest) -> dict[str, Any]:
    fake: FakeStripe = request.getfixturevalue("fake_stripe")
    user = request.getfixturevalue("user")
    client = request.getfixturevalue("client")
    client.force_login(user)
    return {"fake_stripe": fake, "user": user, "request": _request_of(user), "client": client}


def _compile(block: Block) -> Any:
    return compile(
        block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )


def _resolve(value: Any) -> Any:
    """``value``, or what it returns when awaited (in an event loop whose sync-to-async
    calls come back to this thread, so the test's database connection is used)."""
    if not inspect.iscoroutine(value):
        return value

    async def run() -> Any:
        return await value

    return async_to_sync(run)()


def _exec(block: Block, namespace: dict[str, Any]) -> None:
    _resolve(eval(_compile(block), namespace))  # noqa: S307 (the project's own docs)


def _run_python(block: Block, request: pytest.FixtureRequest) -> None:
    namespace = {"__name__": "docs_example", **_signed_in(request)}
    registry = dict(admin.site._registry)  # an example may register admin classes
    try:
        _exec(block, namespace)
        _call_views(namespace)
    finally:
        admin.site._registry.clear()
        admin.site._registry.update(registry)


def _call_views(namespace: dict[str, Any]) -> None:
    for name, value in list(namespace.items()):
        if not inspect.isfunction(value) or value.__module__ != "docs_example":
            continue
        if list(inspect.signature(value).parameters) != ["request"]:
            continue
        response = _resolve(value(_request_of(namespace["user"], "post")))
        if getattr(response, "status_code", None) == 405:  # a view that only answers GET
            response = _resolve(value(namespace["request"]))
        if isinstance(response, HttpResponseBase):
            assert response.status_code < 400, (name, response.status_code, response.content)


def _run_pytest(block: Block, request: pytest.FixtureRequest) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    _exec(block, namespace)
    tests = {n: f for n, f in namespace.items() if n.startswith("test_") and callable(f)}
    assert tests, f"{block.where}: a pytest example defines no test_* function"
    for func in tests.values():
        kwargs = {p: request.getfixturevalue(p) for p in inspect.signature(func).parameters}
        _resolve(func(**kwargs))


def _run_default(block: Block, request: pytest.FixtureRequest) -> None:
    (key,) = block.options
    assert ast.literal_eval(block.code) == conf.DEFAULTS[key]


def _run_urls(block: Block, request: pytest.FixtureRequest) -> None:
    names = _signed_in(request)
    module = types.ModuleType("docs_example_urls")
    exec(_compile(block), module.__dict__)  # noqa: S102 (the project's own docs)
    sys.modules[module.__name__] = module
    try:
        with override_settings(ROOT_URLCONF=module.__name__):
            url = reverse("customer_sessions:customer-session")
            response = names["client"].post(url, {}, content_type="application/json")
    finally:
        del sys.modules[module.__name__]
    assert response.status_code == 201, response.content
    assert (
        response.json()["client_secret"]
        == names["fake_stripe"].customer_sessions[-1]["client_secret"]
    )


TEST_ENVIRONMENT = {
    "STRIPE_SECRET_KEY": "sk_test_docs",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_docs",
    "STRIPE_LIVE_SECRET_KEY": "sk_live_docs",
    "STRIPE_LIVE_PUBLISHABLE_KEY": "pk_live_docs",
    "STRIPE_RESTRICTED_KEY": "rk_live_docs",
    "STRIPE_WEBHOOK_SECRET": "whsec_docs",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://shop:secret@db.internal:5432/shop",
}


def _settings_namespace() -> dict[str, Any]:
    """What a fragment appended to the site's settings.py sees: the names that file defines
    (not Django's defaults, some of which warn when read), with their current values."""
    namespace: dict[str, Any] = {"os": os, "Path": Path}
    module = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    for name in vars(module):
        if name.isupper():
            try:
                namespace[name] = copy.deepcopy(getattr(settings, name))
            except Exception:  # noqa: S112 (a setting that cannot be copied cannot be shown)
                continue
    return namespace


def _merged(name: str, value: Any) -> Any:
    """``[..., x]`` is the existing list plus x; ``NAME += [x]`` adds x to the demo's list,
    which may hold x already (an app listed twice would not load)."""
    if isinstance(value, list) and value and value[0] is Ellipsis:
        current = list(getattr(settings, name, []))
        return current + [item for item in value[1:] if item not in current]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(dict.fromkeys(value))
    return value


def _run_settings(block: Block, request: pytest.FixtureRequest) -> None:
    fake: FakeStripe = request.getfixturevalue("fake_stripe")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    namespace = _settings_namespace()
    _exec(block, namespace)
    changed = {name: _merged(name, namespace[name]) for name in _assigned(block)}
    assert changed, f"{block.where}: a settings example that sets nothing"
    options = dict(option.partition("=")[::2] for option in block.options)
    expected = {i for i in options.get("expect", "").split(",") if i}
    user_conf = changed.get("CUSTOMER_SESSIONS")
    # A misspelt key is a mistake in the docs, except in the example of the check for it.
    if user_conf is not None and "customer_sessions.W008" not in expected:
        unknown = set(user_conf) - set(conf.DEFAULTS)
        assert not unknown, f"{block.where}: not settings of the app: {unknown}"
        # Whatever the example says, no test ever talks to the real Stripe.
        changed["CUSTOMER_SESSIONS"] = {"API_BASE": fake.url, **user_conf}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Overriding setting DATABASES …": checks only
        with override_settings(**changed):
            conf.get_settings()  # the merged settings are valid
            messages = checks.run_checks(include_deployment_checks="deploy" in options)
    ids = {m.id for m in messages if m.id and m.id.startswith("customer_sessions.")}
    if user_conf is not None and "API_BASE" not in user_conf:
        # The API_BASE set above, not the example, sends a live key to the double.
        ids.discard("customer_sessions.W009")
    assert ids == expected, [str(m) for m in messages if m.id in ids ^ expected]


# --- templates and scripts ----------------------------------------------------------------

INVALID = "UNDEFINED-TEMPLATE-VARIABLE-%s"
SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def _node_check(source: str, tmp: Path, module: bool) -> None:
    if NODE is None:
        pytest.skip("node is not installed: JavaScript syntax cannot be checked")
    path = tmp / ("example.mjs" if module else "example.js")
    path.write_text(source)
    result = subprocess.run(  # noqa: S603 (node on a file this test wrote)
        [NODE, "--check", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _run_template(block: Block, request: pytest.FixtureRequest) -> None:
    names = _signed_in(request)
    fake: FakeStripe = names["fake_stripe"]
    engine = Engine(
        app_dirs=True,
        libraries=dict(engines["django"].engine.libraries),  # type: ignore[attr-defined]
        context_processors=[
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
        ],
        string_if_invalid=INVALID,
    )
    context = RequestContext(names["request"], {"stripe_publishable_key": fake.publishable_key})
    html = engine.from_string(block.code).render(context)
    assert "UNDEFINED-TEMPLATE-VARIABLE" not in html, html
    secrets = [s["client_secret"] for s in fake.customer_sessions]
    if "customer_session" in block.code and "{% load customer_sessions %}" in block.code:
        assert secrets, f"{block.where}: the page created no customer session"
    for secret in secrets:
        assert secret in html, f"{block.where}: a secret the page created is not on it"
    tmp = request.getfixturevalue("tmp_path")
    for script in SCRIPT.finditer(html):
        attrs = script["attrs"]
        if "src=" in attrs or "application/json" in attrs or not script["body"].strip():
            continue
        _node_check(script["body"], tmp, module='type="module"' in attrs)


def _run_javascript(block: Block, request: pytest.FixtureRequest) -> None:
    _node_check(block.code, request.getfixturevalue("tmp_path"), module=True)


def _run_json(block: Block, request: pytest.FixtureRequest) -> None:
    json.loads(block.code)


def _run_toml(block: Block, request: pytest.FixtureRequest) -> None:
    tomllib.loads(block.code)


# --- shell ---------------------------------------------------------------------------------

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SAFE_COMMANDS = {
    "check",
    "migrate",
    "makemigrations",
    "showmigrations",
    "customer_sessions_backfill",
    "customer_sessions_verify",
}


def _check_pip(args: list[str], where: str) -> None:
    from packaging.requirements import Requirement

    specs = [a for a in args if not a.startswith("-")]
    assert specs, where
    for spec in specs:
        requirement = Requirement(spec)
        assert requirement.name == PROJECT["name"], f"{where}: installs {requirement.name}"
        unknown = requirement.extras - set(PROJECT["optional-dependencies"])
        assert not unknown, f"{where}: no such extra {unknown}"


def _run_fake_stripe_server(args: list[str], where: str) -> None:
    process = subprocess.Popen(  # noqa: S603 (this interpreter, the app's own module)
        [sys.executable, "-m", "customer_sessions.testing", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, f"{where}: the Stripe double printed nothing within 20 s"
        first = process.stdout.readline()
        assert "http://127.0.0.1:" in first, f"{where}: {first!r}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _run_shell(block: Block, request: pytest.FixtureRequest) -> None:
    _signed_in(request)  # commands run against the Stripe double, with a user in the database
    for number, raw in enumerate(block.code.splitlines(), start=block.line + 1):
        line = raw.strip().removeprefix("$ ")
        where = f"{block.path.relative_to(ROOT)}:{number}"
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line, comments=True)
        if words[0] == "./manage.py":
            words = ["python", "manage.py", *words[1:]]
        if words[:2] == ["pip", "install"]:
            _check_pip(words[2:], where)
        elif words[:4] == ["python", "-m", "pip", "install"]:
            _check_pip(words[4:], where)
        elif words[:3] == ["python", "-m", "customer_sessions.testing"]:
            _run_fake_stripe_server(words[3:], where)
        elif words[:2] == ["python", "manage.py"]:
            command, *args = words[2:]
            assert command in SAFE_COMMANDS, (
                f"{where}: `manage.py {command}` is not run by the docs tests; mark the "
                "block <!-- docs-test: skip: <why> -->"
            )
            out = StringIO()
            call_command(command, *args, stdout=out, stderr=out)
        else:
            pytest.fail(
                f"{where}: no check for {line!r}; mark the block <!-- docs-test: skip: <why> -->"
            )


# --- the quick start in a new project (run by tests/test_fresh_project.py) ----------------

QUICKSTART = [b for b in ALL_BLOCKS if b.kind == "startproject" and b.problem is None]
# The commands of the quick start that tests/test_fresh_project.py knows how to follow.
STARTPROJECT_COMMANDS = [
    ["django-admin", "startproject"],
    ["cd"],
    ["export"],
    ["python", "manage.py", "migrate"],
    ["python", "manage.py", "createsuperuser"],
    ["python", "manage.py", "check"],
    ["python", "manage.py", "runserver"],
    ["python", "-m", "customer_sessions.testing"],
    ["pip", "install", "django-customer-sessions[testing]"],
]


def startproject_command(line: str) -> list[str] | None:
    """The words of a quick start command line, or None for a blank or comment line."""
    words = shlex.split(line.strip().removeprefix("$ "), comments=True)
    if not words:
        return None
    if not any(words[: len(known)] == known for known in STARTPROJECT_COMMANDS):
        raise ValueError(f"tests/test_fresh_project.py cannot follow {line!r}")
    return words


def _check_startproject(block: Block, request: pytest.FixtureRequest) -> None:
    if block.language in ("python", "py"):
        compile(block.code, block.where, "exec", dont_inherit=True)
    elif LANGUAGES[block.language] == "template":
        engine = Engine(libraries=dict(engines["django"].engine.libraries))  # type: ignore[attr-defined]
        engine.from_string(block.code)
    else:
        for line in block.code.splitlines():
            startproject_command(line)


# --- references that must match the code ----------------------------------------------------


def _sections(path: Path, pattern: str) -> list[str]:
    return re.findall(pattern, path.read_text(), flags=re.M)


def test_settings_reference_lists_every_setting_with_its_type_and_default() -> None:
    text = (DOCS / "settings.md").read_text()
    sections = re.split(r"^### `([A-Z_]+)`\s*$", text, flags=re.M)[1:]
    documented = dict(zip(sections[::2], sections[1::2], strict=True))
    assert list(documented) == list(conf.DEFAULTS)
    annotations = {f.name: f.type for f in fields(conf.AppSettings)}
    for key, body in documented.items():
        type_ = re.search(r"^Type: `(?P<type>[^`]+)`", body, flags=re.M)
        assert type_, f"settings.md: {key} has no 'Type: `…`' line"
        assert type_["type"] == annotations[key], key
        default = re.search(r"^Default: `(?P<default>[^`]+)`", body, flags=re.M)
        if default:
            assert ast.literal_eval(default["default"]) == conf.DEFAULTS[key], key
        else:
            marked = [
                b
                for b in ALL_BLOCKS
                if b.path.name == "settings.md" and b.kind == "default" and b.options == [key]
            ]
            assert marked, f"settings.md: {key} has neither 'Default: `…`' nor a default block"


def _registered_check_ids() -> set[str]:
    """Every ``id=`` of a check message in the app's source (checks.py and anywhere else)."""
    ids: set[str] = set()
    for path in (ROOT / "customer_sessions").rglob("*.py"):
        ids.update(re.findall(r"""id=["'](customer_sessions\.[CEWI]\d{3})["']""", path.read_text()))
    return ids


def test_checks_reference_lists_every_check() -> None:
    documented = _sections(DOCS / "checks.md", r"^### `(customer_sessions\.[A-Z]\d{3})`")
    assert documented, "checks.md lists no check"
    assert len(documented) == len(set(documented))
    assert set(documented) == _registered_check_ids()


def _anchors(path: Path) -> set[str]:
    """GitHub's ids of a page's headings, plus explicit ``<a id="…">``."""
    text = path.read_text()
    ids = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        ids.add(slug)
    return ids


def test_links_between_docs_resolve() -> None:
    broken = []
    for source in SOURCES:
        for target, anchor in re.findall(
            r"\]\((?!https?://|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)", source.read_text()
        ):
            path = (source.parent / target) if target else source
            if not path.exists() or (anchor and anchor not in _anchors(path)):
                broken.append(f"{source.relative_to(ROOT)} -> {target}#{anchor}")
    assert broken == []


def test_readme_links_work_on_the_package_index() -> None:
    """README.md is also the package's page on PyPI, where a relative link leads nowhere: its
    links are absolute, and those into the repository name a file (and heading) there."""
    text = (ROOT / "README.md").read_text()
    text = re.sub(r"^\s*```.*?^\s*```", "", text, flags=re.M | re.S)  # code is not a link
    text = re.sub(r"`[^`\n]*`", "", text)
    source = PROJECT["urls"]["Source"]
    assert PROJECT["urls"]["Documentation"].startswith(source + "/")
    definitions = dict(re.findall(r"^\[([^\]]+)\]:\s*(\S+)\s*$", text, flags=re.M))
    used = re.findall(r"\]\[([^\]]+)\]", text)
    assert set(used) - set(definitions) == set(), "reference links without a definition"
    targets = [*re.findall(r"\]\(([^)\s]+)\)", text), *definitions.values()]
    broken = []
    for target in targets:
        if not re.match(r"(https?://|mailto:)", target):
            broken.append(target)
        elif target.startswith(source + "/"):
            path, _, anchor = target.removeprefix(source + "/").partition("#")
            kind, branch, file = path.split("/", 2)
            found = kind in ("blob", "raw") and branch == "main" and (ROOT / file).is_file()
            if not found or (anchor and anchor not in _anchors(ROOT / file)):
                broken.append(target)
    assert broken == []
    assert any(target.startswith(source) for target in targets)


def test_commands_reference_gives_the_backfill_defaults_the_command_has() -> None:
    from django.core.management import load_command_class

    command = load_command_class("customer_sessions", "customer_sessions_backfill")
    defaults = command.create_parser("manage.py", "customer_sessions_backfill").parse_args([])
    (row,) = _sections(DOCS / "commands.md", r"^\| `--batch-size N`, `--workers N` \|(.*)\|$")
    assert re.findall(r"\((\d+)\)", row) == [str(defaults.batch_size), str(defaults.workers)]


def test_the_supported_versions_table_is_what_ci_tests() -> None:
    """docs/installation.md's table: the Django series and their Pythons of noxfile.py's
    matrix, and the lowest release of each dependency the matrix also tests."""
    text = (DOCS / "installation.md").read_text()
    table = text.split("## Supported versions", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith(("| Django |", "| --- |"))
    ]
    assert {
        row[0].removesuffix(" (LTS)"): [p.strip() for p in row[1].split(",")] for row in rows
    } == noxfile.DJANGO_PYTHONS
    for name in noxfile.LOWEST:
        column = ["Django", "Python", "djangorestframework", "stripe"].index(name)
        lowest = Version(noxfile.lowest(name).split("==")[1])
        for row in rows:
            assert lowest in [Version(v) for v in re.findall(r"\d+\.\d+\.\d+", row[column])]


@pytest.mark.parametrize("page", ["template-tag.md", "endpoint.md"])
def test_the_presets_table_is_what_the_app_ships(page: str) -> None:
    from customer_sessions.conf import DEFAULTS

    rows = re.findall(r"^\| `([a-z_]+)`[^|]*\|[^|]*\|([^|]*)\|$", (DOCS / page).read_text(), re.M)
    documented = {name: set(re.findall(r"`(payment_method_[a-z_]+)`", cell)) for name, cell in rows}
    shipped = {
        name: {f for component in preset.values() for f in component.get("features", {})}
        for name, preset in DEFAULTS["COMPONENT_PRESETS"].items()
    }
    assert documented == shipped
