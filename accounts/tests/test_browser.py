"""The account pages as a person uses them, in headless Chromium."""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from conftest import ROOT, chromium_path

# Playwright's sync API runs an event loop in this thread; the ORM calls made
# by the test itself are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        yield context.new_page()
        context.close()
        browser.close()


def _screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_person_registers_logs_out_and_logs_in(live_server, page):
    password = "violet-otter-canyon-42"
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Email").fill("dana@example.org")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    _screenshot(page, "accounts-register.png")
    page.get_by_role("button", name="Create account").click()

    assert page.get_by_test_id("nav-user").inner_text() == "dana"
    assert "Welcome, dana" in page.content()
    _screenshot(page, "accounts-home.png")

    page.get_by_role("button", name="Log out").click()
    assert "/accounts/login/" in page.url

    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_test_id("nav-user").inner_text() == "dana"
    assert get_user_model().objects.filter(username="dana").count() == 1
    assert _screenshot(page, "accounts-logged-in.png").stat().st_size > 0
