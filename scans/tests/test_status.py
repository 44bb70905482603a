"""The JSON status endpoint the result page polls."""

import pytest

from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db


def test_it_reports_a_queued_scan(client, alice):
    scan = make_scan(alice, patient_reference="STUDY-7")
    client.force_login(alice)
    response = client.get(f"/scans/{scan.id}/status/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["id"] == str(scan.id) and body["status"] == "queued" and body["finished"] is False
    assert body["elapsed_seconds"] >= 0 and body["result_url"] == f"/scans/{scan.id}/"
    assert "STUDY-7" not in response.content.decode()  # no more than the page needs


def test_it_reports_a_finished_scan(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    body = client.get(f"/scans/{scan.id}/status/").json()
    assert body["status"] == "done" and body["finished"] is True


def test_charlie_gets_404(client, alice, charlie):
    scan = make_scan(alice)
    client.force_login(charlie)
    assert client.get(f"/scans/{scan.id}/status/").status_code == 404
    assert client.post(f"/scans/{scan.id}/status/").status_code == 404


def test_a_reviewer_may_read_it(client, alice, bob):
    scan = make_scan(alice)
    client.force_login(bob)
    assert client.get(f"/scans/{scan.id}/status/").status_code == 200


def test_it_rejects_post(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    assert client.post(f"/scans/{scan.id}/status/").status_code == 405


def test_it_redirects_anonymous_users_to_login(client, alice):
    scan = make_scan(alice)
    assert client.get(f"/scans/{scan.id}/status/").status_code == 302


def test_it_says_the_service_is_starting_while_no_worker_has_the_model(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    assert client.get(f"/scans/{scan.id}/status/").json()["service_starting"] is True
    page = client.get(f"/scans/{scan.id}/").content.decode()
    assert "The analysis service is starting" in page


def test_it_stops_saying_so_once_a_worker_is_ready(client, alice):
    from scans.analyser import analyser_start
    from scans.tests.factories import FakeClassifier

    scan = make_scan(alice)
    analyser_start(classifier_factory=FakeClassifier)
    client.force_login(alice)
    assert client.get(f"/scans/{scan.id}/status/").json()["service_starting"] is False
    page = client.get(f"/scans/{scan.id}/").content.decode()
    assert "The analysis service is starting" not in page and "Waiting for the analyser" in page
