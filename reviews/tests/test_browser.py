"""A clinician uploads, a reviewer overrides, the clinician reads the final label: in headless Chromium, real worker."""

import io
import os
import re

import pytest
from pypdf import PdfReader

from conftest import DATA_DIR, PASSWORD, need_data, need_service, screenshot
from scans.models import Prediction, Scan
from scans.tests.real_stack import model_available

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRAINING = DATA_DIR / "brain-mri" / "Training"
RESULT_TIMEOUT_MS = 150_000  # a fresh worker loads TensorFlow and the model on its first task
LABEL_NAMES = {"glioma": "Glioma", "meningioma": "Meningioma", "notumor": "No tumour detected", "pituitary": "Pituitary tumour"}


def _log_in(page, base_url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-user").wait_for()


def test_a_reviewers_override_is_what_the_owner_reads_in_history_result_and_pdf(live_server, browser_page, alice, bob, worker_process):
    need_data(TRAINING)
    need_service("the trained model in ml/weights", model_available())
    slice_path = sorted((TRAINING / "glioma").glob("*.jpg"))[5]
    page = browser_page
    page.set_default_timeout(30_000)

    # Alice uploads one slice: the upload page takes her straight to its result page.
    _log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/scans/upload/")
    page.locator("#id_files").set_input_files([str(slice_path)])
    page.get_by_label("Patient reference (optional)").fill("STUDY-0016")
    page.get_by_role("button", name="Upload and analyse").click()
    page.wait_for_url(re.compile(r"/scans/[0-9a-f-]{36}/$"))
    scan = Scan.objects.get(owner=alice)
    assert page.url.endswith(f"/scans/{scan.id}/")

    # History follows the unfinished row in place: no reload (the marker survives), the row changes by itself.
    page.goto(f"{live_server.url}/scans/")
    page.evaluate("window.__not_reloaded = true")
    row = page.locator(f'tr[data-scan-id="{scan.id}"]')
    try:
        page.wait_for_function(
            f"""() => {{ const row = document.querySelector('tr[data-scan-id="{scan.id}"]');
                        return row && !['queued', 'processing'].includes(row.dataset.state); }}""",
            timeout=RESULT_TIMEOUT_MS,
        )
    except Exception:
        raise AssertionError(f"history row never updated; scan {Scan.objects.values_list('status', 'attempts').get(pk=scan.pk)}; "
                             f"worker output:\n{worker_process.output[-5000:]}") from None  # fmt: skip
    assert page.evaluate("window.__not_reloaded") is True
    screenshot(page, "answer-history-live.png")
    prediction = Prediction.objects.get(scan=scan)
    ai_label = prediction.label
    new_label = "meningioma" if ai_label != "meningioma" else "pituitary"

    # Bob reviews from the worklist: the file name is listed; he overrides and saves with "Save and next".
    _log_in(page, live_server.url, "bob")
    page.get_by_role("link", name="Review worklist", exact=True).click()
    worklist_row = page.get_by_test_id("worklist-row").filter(has_text=slice_path.name)
    assert worklist_row.count() == 1 and "STUDY-0016" in worklist_row.inner_text()
    screenshot(page, "answer-worklist.png")
    worklist_row.get_by_role("link", name="Review").click()
    page.wait_for_url(re.compile(rf"/scans/{scan.id}/"))
    page.locator("#review-override").check()
    page.locator("select[name=override_label]").select_option(new_label)
    page.locator("#review-note").fill("Extra-axial, dural tail.")
    screenshot(page, "answer-review-form.png")
    page.get_by_test_id("save-and-next").click()
    page.wait_for_url(re.compile(r"/reviews/$"))  # nothing else waits: back on the (empty) worklist
    assert "Nothing waiting for review." in page.content()
    page.get_by_role("link", name="Agreement statistics").click()
    assert page.get_by_test_id("confusion-table").count() == 1
    assert page.get_by_test_id("agreement-percent").first.inner_text() == "0 %"
    screenshot(page, "answer-agreement.png")

    # Alice reads the reviewer's label first everywhere: history, result page, PDF.
    _log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/scans/")
    answer_cell = page.locator(f'tr[data-scan-id="{scan.id}"] [data-testid=row-answer]')
    assert LABEL_NAMES[new_label] in answer_cell.inner_text() and "reviewed by bob" in answer_cell.inner_text()
    assert LABEL_NAMES[ai_label] not in answer_cell.inner_text()
    assert page.get_by_test_id(f"chip-{new_label}").inner_text().split()[-1] == "1"
    screenshot(page, "answer-history-reviewed.png")

    page.locator(f'tr[data-scan-id="{scan.id}"] a').last.click()
    assert page.get_by_test_id("answer-headline").inner_text() == LABEL_NAMES[new_label]
    byline = page.get_by_test_id("answer-byline").inner_text()
    assert byline.startswith("reviewed by bob, ") and f"the AI suggested {LABEL_NAMES[ai_label]}, " in byline
    assert re.search(r"(> 99|< 1|\d{1,2}) %$", byline)
    assert page.get_by_test_id("needs-review").count() == 0
    screenshot(page, "answer-result-reviewed.png")

    response = page.request.get(live_server.url + page.get_by_test_id("report-link").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    first_section = text[text.index("Answer"):text.index("Patient reference")]
    assert LABEL_NAMES[new_label] in first_section and "Reviewed by bob" in first_section
    assert f"the AI suggested {LABEL_NAMES[ai_label]}" in first_section
