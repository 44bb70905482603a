"""A clinician uploads a DICOM series on the page, watches it being analysed by a real worker and reads it as a stack."""

import os
import re

import pytest

from conftest import PASSWORD, need_service, screenshot
from scans.tests.real_stack import model_available
from studies.models import Study, StudyStatus
from studies.tests.test_worker import SLICES, real_series

# Playwright's sync API runs an event loop in this thread; Django's ORM calls here are plain sync calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SUMMARY_TIMEOUT_MS = 180_000  # a fresh worker loads TensorFlow and the model on its first task


def test_a_series_is_uploaded_analysed_and_read_in_the_stack_viewer(live_server, browser_page, alice, worker_process, tmp_path):
    need_service("the trained model in ml/weights", model_available())
    folder = tmp_path / "EXPORT"
    folder.mkdir()
    paths = []
    for name, data, _z in real_series():
        path = folder / name
        path.write_bytes(data)
        paths.append(str(path))
    page = browser_page
    page.set_default_timeout(30_000)

    page.goto(f"{live_server.url}/studies/upload/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/studies/upload/$"))
    page.locator("#id_files").set_input_files(paths)
    page.get_by_role("button", name="Upload and analyse").click()
    page.wait_for_url(re.compile(r"/studies/[0-9a-f-]{36}/$"))
    study = Study.objects.get(owner=alice)
    progress = page.get_by_test_id("progress")
    assert re.search(rf"\d+ of {SLICES} slices analysed", progress.inner_text())
    screenshot(page, "studies-analysing.png")

    # The page follows the analysis by itself and shows the summary when the last slice is done.
    try:
        page.get_by_test_id("study-summary").wait_for(timeout=SUMMARY_TIMEOUT_MS)
    except Exception:
        from scans.models import Scan

        statuses = list(Scan.objects.values_list("status", "attempts"))
        raise AssertionError(f"no summary: study {Study.objects.get(pk=study.id).status}, slices {statuses}, page {page.url}; "
                             f"worker output:\n{worker_process.output[-4000:]}") from None
    assert Study.objects.get(pk=study.id).status == StudyStatus.DONE
    assert f"{SLICES} of {SLICES} slices analysed" in progress.inner_text()
    summary = page.get_by_test_id("study-summary").inner_text()
    assert any(state in summary for state in ("Tumour finding", "Needs review", "No tumour on every analysed slice", "Not analysed"))

    number = page.get_by_test_id("slice-number")
    page.wait_for_function("() => document.querySelectorAll('#strip-chart rect.bar').length === %d" % SLICES)
    start = number.inner_text()
    assert start == f"Slice {SLICES // 2 + 1} of {SLICES}"  # opens in the middle of the stack
    frame = page.locator("#stack-frame")
    frame.focus()
    page.keyboard.press("ArrowUp")
    assert number.inner_text() == f"Slice {SLICES // 2 + 2} of {SLICES}"
    page.keyboard.press("Home")
    assert number.inner_text() == f"Slice 1 of {SLICES}"
    frame.hover()
    page.mouse.wheel(0, 120)
    page.wait_for_function("() => document.getElementById('slice-number').textContent.startsWith('Slice 2 ')")
    image = page.get_by_test_id("slice-image")
    page.wait_for_function("() => document.getElementById('slice-image').complete && document.getElementById('slice-image').naturalWidth > 0")

    # Jump from the strip chart: a click on the last bar shows the last slice.
    chart = page.get_by_test_id("strip-chart")
    box = chart.bounding_box()
    chart.click(position={"x": box["width"] - 2, "y": box["height"] / 2})
    assert number.inner_text() == f"Slice {SLICES} of {SLICES}"
    assert "AI tumour probability" in page.get_by_test_id("slice-answer").inner_text()
    assert image.get_attribute("src").startswith("/scans/")

    page.get_by_label("Heatmap", exact=True).check()
    heatmap = page.locator("#slice-heatmap")
    heatmap.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('slice-heatmap').naturalWidth > 0")
    page.locator("#heatmap-opacity").fill("30")
    assert heatmap.evaluate("element => element.style.opacity") == "0.3"
    screenshot(page, "studies-viewer.png")

    # A phone: the same viewer, narrower; a swipe up moves one slice on.
    page.set_viewport_size({"width": 390, "height": 844})
    frame.focus()
    page.keyboard.press("Home")
    # Real TouchEvents from Touch points, as a finger would send them (the viewer needs no touch library).
    frame.evaluate("""element => {
        const touch = y => new Touch({identifier: 1, target: element, clientX: 100, clientY: y});
        element.dispatchEvent(new TouchEvent("touchstart", {touches: [touch(400)], bubbles: true}));
        element.dispatchEvent(new TouchEvent("touchmove", {touches: [touch(340)], bubbles: true}));
        element.dispatchEvent(new TouchEvent("touchend", {touches: [], bubbles: true}));
    }""")
    assert number.inner_text() == f"Slice 2 of {SLICES}"
    screenshot(page, "studies-viewer-phone.png")
