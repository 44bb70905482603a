"""The account pages as a person uses them, in headless Chromium."""

import pytest
from django.contrib.auth import get_user_model

from conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_registers_logs_out_and_logs_in(live_server, browser_page):
    page = browser_page
    password = "violet-otter-canyon-42"
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Email").fill("dana@example.org")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    screenshot(page, "accounts-register.png")
    page.get_by_role("button", name="Create account").click()

    assert page.get_by_test_id("nav-user").inner_text() == "dana"
    assert "Welcome, dana" in page.content()
    screenshot(page, "accounts-home.png")

    page.get_by_role("button", name="Log out").click()
    assert "/accounts/login/" in page.url

    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_test_id("nav-user").inner_text() == "dana"
    assert get_user_model().objects.filter(username="dana").count() == 1
    assert screenshot(page, "accounts-logged-in.png").stat().st_size > 0
