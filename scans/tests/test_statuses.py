"""GET /scans/statuses/?id=…: the batch status endpoint that history and upload rows follow."""

import uuid

import pytest

from reviews.services import review_create
from scans.services import scan_fail
from scans.tests.factories import make_done_scan, make_scan, refused_result

pytestmark = pytest.mark.django_db
URL = "/scans/statuses/"


def _by_id(response) -> dict:
    return {row["id"]: row for row in response.json()["scans"]}


def test_it_reports_each_scans_state_answer_and_row(client, alice, bob):
    queued = make_scan(alice, name="waiting.png")
    reviewed = make_done_scan(alice)
    review_create(scan=reviewed, reviewer=bob, decision="overridden", override_label="meningioma")
    refused = make_done_scan(alice, result=refused_result())
    failed = make_scan(alice)
    scan_fail(scan_id=failed.id, reason="Damaged.")
    client.force_login(alice)
    response = client.get(URL, {"id": [str(queued.id), str(reviewed.id), str(refused.id), str(failed.id)]})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    rows = _by_id(response)
    assert (rows[str(queued.id)]["state"], rows[str(queued.id)]["finished"]) == ("queued", False)
    assert 'data-live' in rows[str(queued.id)]["row_html"] and "waiting.png" in rows[str(queued.id)]["row_html"]
    assert rows[str(reviewed.id)]["answer"] == "Meningioma · reviewed by bob"
    assert "Meningioma" in rows[str(reviewed.id)]["row_html"] and "data-live" not in rows[str(reviewed.id)]["row_html"]
    assert (rows[str(refused.id)]["state"], rows[str(refused.id)]["answer"]) == ("not_analysed", "Not analysed")
    assert (rows[str(failed.id)]["state"], rows[str(failed.id)]["finished"]) == ("failed", True)


def test_charlie_gets_nothing_about_alices_scans_as_for_unknown_ids(client, alice, charlie):
    scan = make_scan(alice)
    client.force_login(charlie)
    assert client.get(URL, {"id": [str(scan.id), str(uuid.uuid4()), "not-a-uuid"]}).json() == {"scans": []}


def test_a_reviewer_may_follow_others_scans(client, alice, bob):
    scan = make_scan(alice)
    client.force_login(bob)
    assert list(_by_id(client.get(URL, {"id": str(scan.id)}))) == [str(scan.id)]


def test_it_answers_at_most_a_hundred_ids(client, alice, settings):
    settings.SCANS_UPLOADS_PER_HOUR = 200
    scans = [make_scan(alice) for _ in range(101)]
    client.force_login(alice)
    assert len(client.get(URL, {"id": [str(scan.id) for scan in scans]}).json()["scans"]) == 100


def test_it_rejects_post(client, alice):
    client.force_login(alice)
    assert client.post(URL).status_code == 405


def test_it_redirects_anonymous_users_to_login(client, alice):
    response = client.get(URL, {"id": str(make_scan(alice).id)})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_history_marks_unfinished_rows_live_and_loads_the_poller(client, alice):
    make_scan(alice)
    make_done_scan(alice)
    client.force_login(alice)
    content = client.get("/scans/").content.decode()
    assert content.count("data-live") == 1
    assert 'data-statuses-url="/scans/statuses/"' in content and "/static/scans/live.js" in content
    assert "<script>" not in content  # scripts live in static files (a strict script-src 'self')
