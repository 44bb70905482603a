"""/api/v1/studies/: upload a series or volume, list your studies, read one; strangers get 404."""

import uuid

import pytest

from accounts.audit import AuditAction, AuditOutcome
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from scans.models import Scan
from scans.tests.factories import PHI_STRINGS
from studies.models import Study
from studies.tests.factories import SERIES_DESCRIPTION, dicom_series, enhanced_mr, nifti_upload, nifti_volume, uploads, zip_upload

pytestmark = pytest.mark.django_db

URL = "/api/v1/studies/"


def _upload(client, files, **fields):
    return client.post(URL, {"file": files, **fields}, format="multipart")


def test_it_takes_a_series_as_many_files(alice_api, alice):
    response = _upload(alice_api, uploads(dicom_series(4)), patient_ref="STUDY-9")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    study = Study.objects.get()
    assert body["id"] == str(study.id) and body["url"] == f"http://testserver{URL}{study.id}/"
    assert body["status"] == "analysing" and body["source"] == "dicom" and body["patient_ref"] == "STUDY-9"
    assert body["progress"] == {"total": 4, "finished": 0, "failed": 0}
    assert body["summary"] is None and body["skipped"] == []
    (series,) = body["series"]
    assert series["description"] == SERIES_DESCRIPTION and series["parameters"]["echo_time_ms"] == 120.0
    assert [item["position"] for item in series["slices"]] == [0, 1, 2, 3]
    first = series["slices"][0]
    assert first["links"]["scan"] == f"http://testserver/api/v1/scans/{first['scan_id']}/"
    assert first["links"]["image"] == f"http://testserver/api/v1/scans/{first['scan_id']}/image"
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD, object_type="study", object_id=str(study.id)).count() == 1
    assert not any(needle in response.content.decode() for needle in PHI_STRINGS)


def test_it_takes_a_zip_and_lists_the_skipped_files(alice_api):
    entries = [(name, data) for name, data, _z in dicom_series(3)] + [("README.txt", b"hello")]
    response = _upload(alice_api, [zip_upload(entries)])
    assert response.status_code == 201
    body = response.json()
    assert body["progress"]["total"] == 3 and body["name"] == "study.zip"
    assert [item["name"] for item in body["skipped"]] == ["README.txt"]


def test_it_takes_a_multi_frame_file_as_a_series(alice_api):
    data, _heights = enhanced_mr(4)
    response = _upload(alice_api, uploads([("volume.dcm", data)]))
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    (series,) = body["series"]
    assert body["progress"]["total"] == 4 and series["parameters"]["echo_time_ms"] == 95.0
    assert [item["instance_number"] for item in series["slices"]] == [4, 3, 2, 1]  # feet to head
    assert not any(needle in response.content.decode() for needle in PHI_STRINGS)


def test_it_takes_a_nifti_volume(alice_api):
    response = _upload(alice_api, [nifti_upload(nifti_volume((12, 10, 5)))])
    assert response.status_code == 201
    assert response.json()["source"] == "nifti" and response.json()["progress"]["total"] == 5


def test_a_refused_study_stores_nothing_and_says_why_per_file(alice_api):
    response = _upload(alice_api, [zip_upload([("a.txt", b"hello"), ("b.bin", b"\x00" * 300)])])
    body = assert_json_error(response, 400)
    assert {item["name"] for item in body["files"]} == {"a.txt", "b.bin"}
    assert not Study.objects.exists() and not Scan.objects.exists()


def test_limits_answer_413(alice_api, settings):
    settings.STUDIES_MAX_SLICES = 2
    body = assert_json_error(_upload(alice_api, uploads(dicom_series(3))), 413)
    assert "at most 2" in body["error"]


def test_the_quota_answers_429(alice_api, settings):
    settings.STUDIES_UPLOADS_PER_HOUR = 1
    assert _upload(alice_api, uploads(dicom_series(1))).status_code == 201
    assert_json_error(_upload(alice_api, uploads(dicom_series(1))), 429)


def test_it_needs_a_file(alice_api):
    assert_json_error(alice_api.post(URL, {"patient_ref": "x"}, format="multipart"), 400)


def test_it_needs_a_token(client, alice):
    assert client.get(URL).status_code == 401


def test_the_list_holds_only_your_studies_with_their_progress(alice_api, bob_api):
    _upload(alice_api, uploads(dicom_series(2)))
    body = alice_api.get(URL).json()
    assert body["count"] == 1 and body["results"][0]["progress"] == {"total": 2, "finished": 0, "failed": 0}
    assert bob_api.get(URL).json()["count"] == 0  # a reviewer's own list is their own


def test_the_owner_and_a_reviewer_see_it(alice_api, bob_api):
    study_id = _upload(alice_api, uploads(dicom_series(2))).json()["id"]
    for client in (alice_api, bob_api):
        response = client.get(f"{URL}{study_id}/")
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        assert response.json()["progress"]["total"] == 2
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_RESULT, object_type="study").count() == 2


def test_charlie_gets_404_like_an_unknown_id(alice_api, charlie_api, charlie):
    study_id = _upload(alice_api, uploads(dicom_series(1))).json()["id"]
    foreign = assert_json_error(charlie_api.get(f"{URL}{study_id}/"), 404)
    unknown = assert_json_error(charlie_api.get(f"{URL}{uuid.uuid4()}/"), 404)
    assert foreign == unknown
    denied = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED, object_id=study_id)
    assert denied.actor == charlie and denied.outcome == AuditOutcome.DENIED and denied.object_type == "study"


def test_the_schema_documents_the_study_endpoints(alice_api):
    paths = alice_api.get("/api/schema/?format=json").json()["paths"]
    assert {"get", "post"} <= set(paths[URL]) and "get" in paths[URL + "{study_id}/"]
