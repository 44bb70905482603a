"""A reviewer overrides a study's finding on its page, in headless Chromium; the owner reads it on the page and in the PDF.

The slices are analysed in the test (the fake classifier): the worker and the model have their own browser test.
"""

import io
import os

import pytest
from pypdf import PdfReader

from conftest import PASSWORD, screenshot
from studies.tests.summarised import glioma, no_tumour, summarised_study

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-user").wait_for()


def test_a_reviewer_overrides_the_study_and_the_owner_reads_it_on_the_page_and_in_the_pdf(live_server, browser_page, alice, bob):
    study = summarised_study(alice, [no_tumour(), glioma(0.9), no_tumour()])
    page = browser_page
    page.set_default_timeout(30_000)

    _log_in(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/studies/{study.id}/")
    assert page.get_by_test_id("study-answer-headline").inner_text() == "Tumour finding"
    form = page.get_by_test_id("study-review-form")
    form.get_by_label("Override with").check()
    form.get_by_test_id("study-review-finding").select_option("no_tumour")
    form.get_by_test_id("study-review-note").fill("Flow artefact on slice 2.")
    form.get_by_test_id("study-review-save").click()
    page.get_by_test_id("study-review-entry").wait_for()
    assert page.get_by_test_id("study-answer-headline").inner_text() == "No tumour on every analysed slice"
    assert page.get_by_test_id("study-answer-byline").inner_text().startswith("Reviewed by bob, ")
    assert "Overridden: No tumour on every analysed slice" in page.get_by_test_id("study-review-history").inner_text()
    assert page.get_by_test_id("study-state").inner_text() == "Tumour finding"  # the AI summary, as recorded, beside it
    screenshot(page, "studies-reviewed.png")

    _log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/studies/{study.id}/")
    assert page.get_by_test_id("study-answer-headline").inner_text() == "No tumour on every analysed slice"
    response = page.request.get(live_server.url + page.get_by_test_id("study-report-link").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert text.split("Answer", 1)[1].lstrip().startswith("No tumour on every analysed slice")
    assert "Reviewed by bob" in text and "Flow artefact on slice 2." in text
