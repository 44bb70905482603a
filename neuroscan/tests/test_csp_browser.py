"""In Chromium: no page breaks the Content-Security-Policy (no violation reported, no console error about it)."""

import pytest

from conftest import PASSWORD, screenshot
from scans.tests.factories import make_done_scan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports, kept where the test can read it.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__csp.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline'));
});
"""


def test_no_page_violates_the_policy(live_server, browser_page, alice, django_user_model):
    from django.contrib.auth.models import Group

    from accounts.roles import REVIEWERS_GROUP

    # A reviewer, made here: an earlier transactional test may have flushed the migration's group (and `bob` needs it).
    reviewer = django_user_model.objects.create_user(username="bob", email="bob@example.org", password=PASSWORD)
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    scan = make_done_scan(alice)
    page = browser_page
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    urls = ["/", "/scans/", "/scans/upload/", f"/scans/{scan.id}/", "/accounts/api-token/", "/accounts/security/",
            "/accounts/password/change/", "/reviews/", "/reviews/agreement/", "/api/docs/"]  # fmt: skip
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp")
        assert violations == [], f"{url}: {violations}"
    assert page.locator(".swagger-ui").count() == 1 and page.locator(".opblock").count() > 3  # Swagger UI really ran
    screenshot(page, "csp-api-docs.png")
    assert [text for text in console if "Content Security Policy" in text] == []
