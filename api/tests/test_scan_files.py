"""GET /api/v1/scans/{id}/image, /heatmap (PNG) and /report (PDF): authorised streams, audited."""

import pytest

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def audited(action: str, scan) -> bool:
    return AuditEvent.objects.filter(action=action, object_id=str(scan.id)).exists()


def test_it_serves_the_image(alice_api, alice):
    scan = make_scan(alice)
    response = alice_api.get(f"/api/v1/scans/{scan.id}/image", HTTP_ACCEPT="image/png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    data = content(response)
    assert data.startswith(b"\x89PNG")
    assert audited(AuditAction.FETCH_IMAGE, scan)


def test_it_serves_the_heatmap_once_done(alice_api, alice):
    queued = make_scan(alice)
    assert_json_error(alice_api.get(f"/api/v1/scans/{queued.id}/heatmap"), 404)
    scan = make_done_scan(alice)
    response = alice_api.get(f"/api/v1/scans/{scan.id}/heatmap")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert content(response).startswith(b"\x89PNG")
    assert audited(AuditAction.FETCH_HEATMAP, scan) and not audited(AuditAction.FETCH_HEATMAP, queued)


def test_it_serves_the_report_once_done(alice_api, alice):
    queued = make_scan(alice)
    assert_json_error(alice_api.get(f"/api/v1/scans/{queued.id}/report"), 409)
    assert not audited(AuditAction.DOWNLOAD_REPORT, queued)
    scan = make_done_scan(alice)
    response = alice_api.get(f"/api/v1/scans/{scan.id}/report", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert content(response).startswith(b"%PDF")
    from reports.services import report_file_name

    assert f'filename="{report_file_name(scan)}"' in response["Content-Disposition"]
    assert audited(AuditAction.DOWNLOAD_REPORT, scan)


def test_it_prints_the_report_on_letter_paper(alice_api, alice):
    scan = make_done_scan(alice)
    a4 = content(alice_api.get(f"/api/v1/scans/{scan.id}/report"))
    letter = content(alice_api.get(f"/api/v1/scans/{scan.id}/report", {"paper": "letter"}))
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in a4 and b"/MediaBox [ 0 0 612 792 ]" in letter
    assert_json_error(alice_api.get(f"/api/v1/scans/{scan.id}/report", {"paper": "a3"}), 400)


@pytest.mark.parametrize("part", ["image", "heatmap", "report"])
def test_reviewers_may_fetch(bob_api, alice, part):
    scan = make_done_scan(alice)
    assert bob_api.get(f"/api/v1/scans/{scan.id}/{part}").status_code == 200


@pytest.mark.parametrize("part", ["image", "heatmap", "report"])
def test_it_checks_owner(charlie_api, alice, part):
    scan = make_done_scan(alice)
    assert_json_error(charlie_api.get(f"/api/v1/scans/{scan.id}/{part}"), 404)
    assert not AuditEvent.objects.filter(object_id=str(scan.id)).exclude(action__in=[AuditAction.UPLOAD, AuditAction.ACCESS_DENIED]).exists()


@pytest.mark.parametrize("part", ["image", "heatmap", "report"])
def test_anonymous_gets_401(client, alice, part):
    assert_json_error(client.get(f"/api/v1/scans/{make_done_scan(alice).id}/{part}"), 401)
