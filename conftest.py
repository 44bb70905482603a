"""Fixtures shared by every app's tests.

alice owns things, bob is a reviewer, charlie is a stranger: every view that
shows a scan gets a "charlie gets 404" test.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.roles import REVIEWERS_GROUP

ROOT = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("NEUROSCAN_DATA_DIR", ROOT.parent / "shared" / "data"))
PASSWORD = "correct-horse-battery-staple"


def pytest_sessionstart(session) -> None:
    """A run cut off earlier can leave the SQLite test database's write-ahead log behind; SQLite
    would replay it into the new test database of the same name. No process holds it now."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name:
        for suffix in ("-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") == "1"


def need_service(name: str, available: bool) -> None:
    """Skip a test whose server is absent, or fail it where CI requires the real stack."""
    if available:
        return
    message = f"{name} is not available"
    if _required("NEUROSCAN_REQUIRE_SERVICES"):
        pytest.fail(f"{message}, and NEUROSCAN_REQUIRE_SERVICES=1 requires it")
    pytest.skip(message)


def need_data(path: Path) -> None:
    """Skip a test whose data set is absent, or fail it where CI requires the data."""
    if path.exists():
        return
    if _required("NEUROSCAN_REQUIRE_DATA"):
        pytest.fail(f"{path} is missing, and NEUROSCAN_REQUIRE_DATA=1 requires it")
    pytest.skip(f"{path} is missing")


SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    need_service("Chromium (/usr/bin/chromium)", Path(path).exists())
    return path


@pytest.fixture(autouse=True)
def _test_storage(settings, tmp_path):
    """Each test writes uploads and heatmaps into its own folder.

    Static files are served from the source folders, so tests need no
    collectstatic run; test_static_files checks the production storage.
    """
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _make_user(django_user_model, username: str):
    return django_user_model.objects.create_user(username=username, email=f"{username}@example.org", password=PASSWORD)


@pytest.fixture
def alice(django_user_model):
    return _make_user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    user = _make_user(django_user_model, "bob")
    # get_or_create: a transactional test's flush removes the group its data migration made.
    user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    return user


@pytest.fixture
def charlie(django_user_model):
    return _make_user(django_user_model, "charlie")


@pytest.fixture
def worker_process(transactional_db):
    """A real Celery worker process on the configured broker and the test database."""
    from neuroscan.testing import WorkerProcess

    with WorkerProcess() as worker:
        yield worker


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A Playwright page in headless Debian Chromium, for tests that use live_server."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        yield context.new_page()
        context.close()
        browser.close()
        # The test's own ORM calls ran while Playwright's event loop was active,
        # in a context whose connections pytest-django never closes.
        connections.close_all()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under the git-ignored test-artifacts folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
