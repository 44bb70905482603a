"""POST /api/v1/scans/: batch upload, per-file refusals, limits, quota, audit."""

import pytest

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from scans.models import Scan, ScanStatus
from scans.tests.factories import image_bytes, make_scan, upload_file

pytestmark = pytest.mark.django_db
URL = "/api/v1/scans/"


def test_it_creates_one_scan_per_file(alice_api, alice):
    files = [upload_file(image_bytes(), "a.png"), upload_file(image_bytes("JPEG"), "b.jpg")]
    response = alice_api.post(URL, {"file": files, "patient_ref": "STUDY-7"}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    scans = {str(scan.id): scan for scan in Scan.objects.filter(owner=alice)}
    assert [item["original_filename"] for item in body] == ["a.png", "b.jpg"]
    for item in body:
        scan = scans[item["id"]]
        assert item["status"] == ScanStatus.QUEUED
        assert item["url"] == f"http://testserver/api/v1/scans/{scan.id}/"
        assert scan.patient_reference == "STUDY-7"


def test_it_audits_each_upload(alice_api, alice):
    alice_api.post(URL, {"file": [upload_file(image_bytes())]}, format="multipart")
    scan = Scan.objects.get()
    event = AuditEvent.objects.get(action=AuditAction.UPLOAD)
    assert event.actor == alice and event.object_id == str(scan.id)


def test_it_keeps_the_accepted_files_of_a_mixed_batch(alice_api):
    files = [upload_file(image_bytes(), "good.png"), upload_file(b"not an image at all", "bad.png")]
    response = alice_api.post(URL, {"file": files}, format="multipart")
    body = assert_json_error(response, 400)
    assert [item["name"] for item in body["files"]] == ["bad.png"]
    assert "not an image" in body["files"][0]["error"]
    scan = Scan.objects.get()
    assert scan.original_name == "good.png"
    assert [item["id"] for item in body["scans"]] == [str(scan.id)]


def test_it_stores_nothing_when_every_file_is_refused(alice_api):
    files = [upload_file(b"", "empty.png"), upload_file(b"GIF89a....", "x.gif")]
    body = assert_json_error(alice_api.post(URL, {"file": files}, format="multipart"), 400)
    assert {item["name"] for item in body["files"]} == {"empty.png", "x.gif"}
    assert body["scans"] == [] and not Scan.objects.exists()


def test_it_requires_a_file(alice_api):
    body = assert_json_error(alice_api.post(URL, {"patient_ref": "X"}, format="multipart"), 400)
    assert body["files"] == [] and not Scan.objects.exists()


def test_it_answers_a_post_without_a_body(alice_api):
    body = assert_json_error(alice_api.generic("POST", URL), 400)
    assert body["files"] == [] and body["scans"] == []


def test_it_refuses_a_long_patient_ref(alice_api):
    body = assert_json_error(alice_api.post(URL, {"file": [upload_file(image_bytes())], "patient_ref": "x" * 65}, format="multipart"), 400)
    assert "patient_ref" in body["fields"] and not Scan.objects.exists()


def test_it_takes_one_patient_ref_per_batch(alice_api):
    body = assert_json_error(alice_api.post(URL, {"file": [upload_file(image_bytes())], "patient_ref": ["A", "B"]}, format="multipart"), 400)
    assert "patient_ref" in body["fields"] and not Scan.objects.exists()


@pytest.mark.parametrize("extra, expected", [(-1, 201), (0, 201), (1, 413)])
def test_it_enforces_the_size_limit(alice_api, settings, extra, expected):
    data = image_bytes()
    settings.SCANS_MAX_UPLOAD_BYTES = len(data) - extra
    response = alice_api.post(URL, {"file": [upload_file(data)]}, format="multipart")
    assert response.status_code == expected
    assert Scan.objects.count() == (1 if expected == 201 else 0)


def test_it_answers_429_over_the_quota(alice_api, alice, settings):
    settings.SCANS_UPLOADS_PER_HOUR = 1
    make_scan(alice)
    body = assert_json_error(alice_api.post(URL, {"file": [upload_file(image_bytes())]}, format="multipart"), 429)
    assert "Too many uploads" in body["files"][0]["error"]
    assert Scan.objects.count() == 1


def test_it_limits_the_files_per_request(alice_api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [upload_file(image_bytes(), f"{n}.png") for n in range(3)]
    body = assert_json_error(alice_api.post(URL, {"file": files}, format="multipart"), 400)
    assert "at most 2 files" in body["error"] and body["files"] == [] and not Scan.objects.exists()


def test_it_answers_413_for_an_oversized_request(alice_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    body = assert_json_error(alice_api.post(URL, {"patient_ref": "x" * 100}, format="multipart"), 413)
    assert body["files"] == [] and body["scans"] == []


def test_it_refuses_json(alice_api):
    assert_json_error(alice_api.post(URL, {"file": "x"}, format="json"), 415)


def test_anonymous_uploads_get_401(client):
    assert_json_error(client.post(URL, {"file": [upload_file(image_bytes())]}), 401)
    assert not Scan.objects.exists()
