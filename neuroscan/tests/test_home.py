"""The home page is a dashboard: upload, recent scans with their states, what needs attention."""

import pytest

from reviews.services import review_create
from scans import services
from scans.tests.factories import FakeResult, make_done_scan, make_scan

pytestmark = pytest.mark.django_db

UNSURE = FakeResult(abstained=True, abstain_reason="The model is not sure.")


def test_it_shows_the_upload_button_and_an_empty_state(client, alice):
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert 'data-testid="dashboard-upload"' in page and 'href="/scans/upload/"' in page
    assert 'data-testid="dashboard-empty"' in page


def test_it_counts_what_needs_the_owners_attention(client, alice, bob):
    make_done_scan(alice, result=UNSURE)
    reviewed = make_done_scan(alice, result=UNSURE)
    review_create(scan=reviewed, reviewer=bob, decision="confirmed")
    make_done_scan(alice)
    failed = make_scan(alice)
    services.scan_fail(scan_id=failed.id, reason="Broken.")
    make_scan(alice)
    make_done_scan(bob, result=UNSURE)  # not alice's
    client.force_login(alice)
    dashboard = client.get("/").context["dashboard"]
    assert (dashboard.needs_review, dashboard.failed, dashboard.in_progress, dashboard.total) == (1, 1, 1, 5)
    assert dashboard.worklist is None  # alice is no reviewer


def test_it_lists_only_the_users_own_recent_scans_newest_first(client, alice, charlie):
    first = make_scan(alice, name="first.png")
    second = make_done_scan(alice, name="second.png")
    make_scan(charlie, name="charlies.png")
    client.force_login(alice)
    response = client.get("/")
    assert [scan.id for scan in response.context["dashboard"].recent] == [second.id, first.id]
    page = response.content.decode()
    assert "charlies.png" not in page and "second.png" in page and "Queued" in page and "Done" in page


def test_charlie_sees_none_of_alices_scans(client, alice, charlie):
    make_done_scan(alice, name="alices.png", result=UNSURE)
    client.force_login(charlie)
    dashboard = client.get("/").context["dashboard"]
    assert dashboard.recent == [] and dashboard.needs_review == 0
    assert "alices.png" not in client.get("/").content.decode()


def test_a_reviewer_sees_the_worklist_count(client, alice, bob):
    make_done_scan(alice)
    make_done_scan(alice, result=UNSURE)
    client.force_login(bob)
    page = client.get("/")
    assert page.context["dashboard"].worklist == 2
    assert 'data-testid="count-worklist"' in page.content.decode()


def test_it_redirects_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_rejects_post(client, alice):
    client.force_login(alice)
    assert client.post("/").status_code == 405


def test_recent_scans_show_their_answer_and_a_refusal_is_no_doubt(client, alice, bob):
    from scans.tests.factories import refused_result

    refused = make_done_scan(alice, result=refused_result(), name="tree.png")
    reviewed = make_done_scan(alice, result=FakeResult(label="notumor"), name="reviewed.png")
    review_create(scan=reviewed, reviewer=bob, decision="overridden", override_label="glioma")
    client.force_login(alice)
    response = client.get("/")
    assert response.context["dashboard"].needs_review == 0  # a refusal is "not analysed", not a doubt
    page = response.content.decode()
    assert "reviewed by bob" in page and "Not analysed" in page and "Meningioma" not in page
    assert 'href="/scans/?state=needs_review"' in page
    assert refused.id in [scan.id for scan in response.context["dashboard"].recent]
