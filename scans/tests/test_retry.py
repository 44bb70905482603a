"""The retry button of a failed scan."""

import pytest

from scans.models import Scan, ScanStatus
from scans.services import scan_fail
from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_scan(alice):
    scan = make_scan(alice)
    scan_fail(scan_id=scan.id, reason="Damaged.")
    return scan


def test_it_queues_a_failed_scan_again(client, alice, failed_scan, sent_tasks, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/scans/{failed_scan.id}/retry/")
    assert response.status_code == 302 and response["Location"] == f"/scans/{failed_scan.id}/"
    failed_scan.refresh_from_db()
    assert failed_scan.status == ScanStatus.QUEUED and failed_scan.failure_reason == ""
    assert sent_tasks[0]["args"] == [str(failed_scan.id)]


def test_it_changes_nothing_for_a_finished_scan(client, alice, sent_tasks, django_capture_on_commit_callbacks):
    scan = make_done_scan(alice)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/scans/{scan.id}/retry/")
    assert Scan.objects.get(pk=scan.pk).status == ScanStatus.DONE and sent_tasks == []


def test_it_rejects_get(client, alice, failed_scan):
    client.force_login(alice)
    assert client.get(f"/scans/{failed_scan.id}/retry/").status_code == 405


def test_charlie_gets_404(client, charlie, failed_scan):
    client.force_login(charlie)
    assert client.post(f"/scans/{failed_scan.id}/retry/").status_code == 404
    assert client.get(f"/scans/{failed_scan.id}/retry/").status_code == 404
    assert Scan.objects.get(pk=failed_scan.pk).status == ScanStatus.FAILED


def test_a_reviewer_may_not_retry_someone_elses_scan(client, bob, failed_scan):
    client.force_login(bob)
    assert client.post(f"/scans/{failed_scan.id}/retry/").status_code == 404


def test_it_redirects_anonymous_users_to_login(client, failed_scan):
    assert client.post(f"/scans/{failed_scan.id}/retry/").status_code == 302
