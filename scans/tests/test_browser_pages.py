"""The pages of issue 19 in headless Chromium: dashboard, error page, API token, phone layout, heatmap tools.

No worker here: scans are analysed in the test through the real service with a stand-in model
whose heat is a known blob, so the heatmap tools have something to show.
"""

import numpy as np
import pytest

from conftest import PASSWORD, screenshot
from scans.tests.factories import FakeClassifier, FakeExplanation, FakeResult, image_bytes, make_scan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


class BlobClassifier(FakeClassifier):
    """The stand-in model, with a Gaussian blob of heat right of centre and the real overlay function."""

    def analyse(self, image):
        from ml.inference import make_overlay

        self.calls += 1
        height, width = image.shape[:2]
        yy, xx = np.mgrid[0:height, 0:width]
        heat = np.exp(-(((xx - 0.65 * width) / (0.12 * width)) ** 2 + ((yy - 0.45 * height) / (0.12 * height)) ** 2)).astype(np.float32)
        return self.result, FakeExplanation(self.result.label, heat, make_overlay(image, heat))


def done_scan(owner, name="slice.png", result=None, **kwargs):
    from scans.services import scan_analyse

    scan = make_scan(owner, data=image_bytes(width=256, height=256), name=name, **kwargs)
    assert scan_analyse(scan_id=scan.id, classifier_factory=lambda: BlobClassifier(result)) == "done"
    scan.refresh_from_db()
    return scan


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_test_id("nav-user").wait_for(state="attached")  # in the collapsed menu on a phone


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_dashboard_shows_what_needs_attention(live_server, browser_page, alice, bob):
    done_scan(alice, name="confident.png")
    done_scan(alice, name="unsure.png", patient_reference="STUDY-9", result=FakeResult(abstained=True, abstain_reason="Unsure."))
    make_scan(alice, name="waiting.png")
    page = browser_page
    log_in(page, live_server, "alice")
    assert page.get_by_test_id("recent-scan").count() == 3
    assert page.get_by_test_id("count-needs-review").inner_text().startswith("1")
    assert page.get_by_test_id("dashboard-upload").is_visible()
    screenshot(page, "issue19-dashboard.png")
    page.get_by_test_id("count-needs-review").click()
    page.get_by_test_id("history-row").first.wait_for()
    assert page.get_by_test_id("history-row").count() == 1


def test_an_unknown_page_and_a_strangers_scan_look_like_the_site(live_server, browser_page, alice, charlie):
    scan = done_scan(alice)
    page = browser_page
    log_in(page, live_server, "charlie")
    response = page.goto(f"{live_server.url}/scans/{scan.id}/")
    assert response.status == 404
    assert page.get_by_test_id("error-page").is_visible() and page.get_by_test_id("nav-user").is_visible()
    screenshot(page, "issue19-404.png")


def test_the_api_token_is_shown_once_with_a_copy_button(live_server, browser_page, alice):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/api-token/")
    page.get_by_role("button", name="Create a token").click()
    key = page.locator("#new-token-key").inner_text().strip()
    assert len(key) >= 20
    page.get_by_test_id("copy-token").click()
    page.locator("#copy-token-result").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    screenshot(page, "issue19-api-token.png")
    page.reload()
    assert page.get_by_test_id("new-token").count() == 0
    assert page.get_by_test_id("token-status").inner_text().startswith("You have an API token")


def test_history_worklist_and_result_fit_a_phone(live_server, browser_page, alice, bob):
    long_name = "a_very_long_file_name_from_the_scanner_export_2026-01-15_series_0004_slice_0017.png"
    scan = done_scan(alice, name=long_name, patient_reference="STUDY-1234")
    done_scan(alice, name="second.png", result=FakeResult(abstained=True, abstain_reason="Unsure."))
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page, live_server, "alice")

    page.goto(f"{live_server.url}/scans/")
    row = page.get_by_test_id("history-row").filter(has_text="STUDY-1234")
    assert no_horizontal_overflow(page)
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        assert box is None or box["x"] + box["width"] <= PHONE["width"], cell.inner_text()
    name_box = row.get_by_role("link", name=long_name).bounding_box()
    assert name_box["width"] > 150  # a readable line, not one character per line
    screenshot(page, "issue19-phone-history.png")

    page.goto(f"{live_server.url}/scans/{scan.id}/")
    assert no_horizontal_overflow(page)
    row_width = page.locator("#result-images").bounding_box()["width"]
    for target in ("original", "heatmap"):
        picture = page.locator(f'[data-enlarge="{target}"]').bounding_box()
        # Full width of the result card, one above the other (not two half-width pictures).
        assert picture["width"] >= row_width - 30 and picture["width"] > 300, target
    heatmap = page.locator('[data-enlarge="heatmap"]')
    caption = heatmap.locator("xpath=following-sibling::figcaption")
    assert caption.bounding_box()["y"] >= heatmap.bounding_box()["y"] + heatmap.bounding_box()["height"] - 1
    screenshot(page, "issue19-phone-result.png")

    page.get_by_role("button", name="Toggle navigation").click()
    page.locator("#nav-main.show").wait_for()  # the menu has finished opening
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_text("You have been logged out.").wait_for()
    screenshot(page, "issue19-phone-logged-out.png")
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/reviews/")
    assert no_horizontal_overflow(page)
    button = page.get_by_test_id("worklist-row").first.get_by_role("link", name="Review")
    box = button.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "issue19-phone-worklist.png")


def test_the_heatmap_tools(live_server, browser_page, alice):
    scan = done_scan(alice)
    page = browser_page
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/scans/{scan.id}/")
    assert page.get_by_test_id("heat-legend").is_visible()

    # Window/level: the original is redrawn through a look-up table.
    canvas = page.get_by_test_id("original-canvas")
    canvas.wait_for()
    centre = "(() => { const c = document.getElementById('original-canvas'); return c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data[0]; })()"
    before = page.evaluate(centre)
    page.get_by_test_id("wl-window").fill("60")
    page.get_by_test_id("wl-level").fill("40")
    page.get_by_test_id("wl-level").dispatch_event("input")
    after = page.evaluate(centre)
    assert before != after and after == 255  # a bright pixel saturates in a narrow, low window

    # Hottest region only: coloured pixels only where the heat is high, outlined.
    page.get_by_test_id("heat-mode-hottest").click()
    hottest = page.get_by_test_id("hottest-canvas")
    hottest.wait_for()
    # The heat PNG loads asynchronously; an undrawn canvas already has its default 300 px width.
    page.wait_for_function("() => document.getElementById('hottest-canvas').dataset.drawnThreshold !== undefined")
    counts = page.evaluate("""(() => {
        const c = document.getElementById('hottest-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let drawn = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) drawn++;
        const hot = c.getContext('2d').getImageData(Math.round(c.width * 0.65), Math.round(c.height * 0.45), 1, 1).data[3];
        const corner = c.getContext('2d').getImageData(2, 2, 1, 1).data[3];
        return {share: drawn / (c.width * c.height), hot, corner};
    })()""")
    assert 0.005 < counts["share"] < 0.2 and counts["hot"] > 0 and counts["corner"] == 0
    assert page.locator("#heatmap-layer").is_hidden()
    screenshot(page, "issue19-heatmap-hottest.png")

    # Click to enlarge, zoom and pan.
    page.locator('[data-enlarge="heatmap"]').click()
    viewer = page.get_by_test_id("image-viewer")
    viewer.wait_for(state="visible")
    page.get_by_test_id("viewer-zoom-in").click()
    page.get_by_test_id("viewer-zoom-in").click()
    content = page.get_by_test_id("viewer-content")
    assert float(content.get_attribute("data-scale")) > 2
    box = page.locator("#viewer-stage").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 30, steps=5)
    page.mouse.up()
    assert "translate(80px, 30px)" in content.evaluate("element => element.style.transform")
    screenshot(page, "issue19-heatmap-enlarged.png")
