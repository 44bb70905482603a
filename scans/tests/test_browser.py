"""Upload → live status → result → history, as a clinician uses it, in headless Chromium with a real worker."""

import os
import re

import pytest

from conftest import DATA_DIR, PASSWORD, need_data, need_service, screenshot
from scans.models import Prediction, Scan
from scans.tests.real_stack import model_available

# Playwright's sync API runs an event loop in this thread; Django's ORM calls here are plain sync calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRAINING = DATA_DIR / "brain-mri" / "Training"
RESULT_TIMEOUT_MS = 150_000  # a fresh worker loads TensorFlow and the model on its first task


def test_a_clinician_uploads_two_slices_reads_a_result_and_filters_history(live_server, browser_page, alice, worker_process, tmp_path):
    need_data(TRAINING)
    need_service("the trained model in ml/weights", model_available())
    slices = [sorted((TRAINING / name).glob("*.jpg"))[3] for name in ("glioma", "notumor")]
    page = browser_page
    page.set_default_timeout(30_000)

    page.goto(f"{live_server.url}/scans/upload/")
    assert "/accounts/login/" in page.url  # login first, then back to the upload page
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/scans/upload/$"))

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("Not an image, whatever its name says.\n" * 20)
    page.locator("#id_files").set_input_files([str(path) for path in slices] + [str(not_an_image)])
    page.get_by_label("Patient reference (optional)").fill("STUDY-0001")
    assert page.get_by_test_id("file-row").count() == 3
    screenshot(page, "scans-upload-chosen.png")
    page.get_by_role("button", name="Upload and analyse").click()
    page.get_by_role("link", name="open result").nth(1).wait_for()
    # The refused file says why, beside its name; the two slices were kept.
    error = page.get_by_test_id("file-error")
    error.wait_for()
    assert error.count() == 1 and "not an image" in error.inner_text()
    assert "notes.png" in page.get_by_test_id("file-row").nth(2).inner_text()
    screenshot(page, "scans-upload.png")
    assert Scan.objects.filter(owner=alice, patient_reference="STUDY-0001").count() == 2

    page.get_by_role("link", name="open result").first.click()
    page.wait_for_url(re.compile(r"/scans/[0-9a-f-]{36}/$"))
    if page.get_by_test_id("live-status").is_visible():
        screenshot(page, "scans-result-waiting.png")
    # Either still waiting (live status) or already done: the page must end on the result without a manual reload.
    label = page.get_by_test_id("result-label")
    try:
        label.wait_for(timeout=RESULT_TIMEOUT_MS)
    except Exception:
        statuses = list(Scan.objects.values_list("status", "attempts"))
        raise AssertionError(f"no result; scans {statuses}; worker output:\n{worker_process.output[-5000:]}") from None
    label_text = label.inner_text()
    assert label_text in {"Glioma", "Meningioma", "No tumour detected", "Pituitary tumour"}
    assert page.get_by_test_id("probabilities").is_visible()
    assert page.get_by_test_id("not-a-diagnosis").is_visible()
    page.wait_for_function("() => document.getElementById('heatmap-layer').complete && document.getElementById('heatmap-layer').naturalWidth > 0")
    page.get_by_test_id("opacity").fill("40")
    assert page.locator("#heatmap-layer").evaluate("element => element.style.opacity") == "0.4"
    screenshot(page, "scans-result.png")

    # Let the second scan finish too, so that history shows two results.
    for scan in Scan.objects.filter(owner=alice):
        page.goto(f"{live_server.url}/scans/{scan.id}/")
        page.get_by_test_id("result-label").or_(page.get_by_test_id("failure")).wait_for(timeout=RESULT_TIMEOUT_MS)
    assert Prediction.objects.filter(scan__owner=alice).count() == 2

    page.get_by_role("link", name="History", exact=True).click()
    assert page.get_by_test_id("history-row").count() == 2
    screenshot(page, "scans-history.png")
    label_value = {"Glioma": "glioma", "Meningioma": "meningioma", "No tumour detected": "notumor", "Pituitary tumour": "pituitary"}[label_text]
    page.locator("#id_label").select_option(label_value)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(rf"label={label_value}"))
    rows = page.get_by_test_id("history-row")
    assert 1 <= rows.count() <= 2
    assert all(label_text in rows.nth(i).inner_text() for i in range(rows.count()))
    page.get_by_label("Search").fill("STUDY-0001")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_test_id("history-row").count() == rows.count()
    screenshot(page, "scans-history-filtered.png")
