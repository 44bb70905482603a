"""/api/v1/studies/{id}/reviews/ and /report: the study's answer, reviews and PDF through the API; strangers get 404."""

import io
import uuid

import pytest
from pypdf import PdfReader

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from studies.models import StudyReview
from studies.services import study_ingest
from studies.tests.factories import dicom_series, uploads
from studies.tests.summarised import glioma, no_tumour, summarised_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(alice):
    return summarised_study(alice, [no_tumour(), glioma(0.9), no_tumour()])


def _reviews(study) -> str:
    return f"/api/v1/studies/{study.id}/reviews/"


def test_a_reviewer_overrides_and_the_detail_follows_the_review(bob_api, bob, study):
    response = bob_api.post(_reviews(study), {"decision": "overridden", "override_finding": "no_tumour", "note": "Artefact."}, format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert (body["reviewer"], body["decision"], body["ai_finding"], body["final_finding"]) == ("bob", "overridden", "tumour_finding", "no_tumour")
    detail = bob_api.get(f"/api/v1/studies/{study.id}/").json()
    answer = detail["answer"]
    assert answer["finding"] == "no_tumour" and answer["source"] == "reviewer" and answer["review"]["id"] == body["id"]
    assert answer["slices_finding"] == answer["recorded_finding"] == "tumour_finding"
    assert detail["summary"]["state"] == "tumour_finding"  # the AI summary, as recorded
    assert detail["links"] == {"report": f"http://testserver/api/v1/studies/{study.id}/report",
                               "reviews": f"http://testserver{_reviews(study)}"}  # fmt: skip
    [event] = AuditEvent.objects.filter(action=AuditAction.REVIEW)
    assert (event.actor, event.object_type, event.object_id) == (bob, "study", str(study.id))


def test_each_slice_carries_its_answer_so_a_slice_review_shows(bob_api, bob, study):
    from reviews.services import review_create
    from studies.tests.summarised import slice_scans

    review_create(scan=slice_scans(study)[1], reviewer=bob, decision="overridden", override_label="notumor", note="Artefact.")
    detail = bob_api.get(f"/api/v1/studies/{study.id}/").json()
    finals = [item["final"] for item in detail["series"][0]["slices"]]
    assert [final["label"] for final in finals] == ["notumor", "notumor", "notumor"]
    assert [final["source"] for final in finals] == ["ai", "reviewer", "ai"]
    answer = detail["answer"]
    assert answer["finding"] == answer["slices_finding"] == "no_tumour" and answer["source"] == "ai"
    assert answer["recorded_finding"] == "tumour_finding" and answer["reviewed_slices"] == 1


def test_the_reviews_are_listed_oldest_first(alice_api, study):
    alice_api.post(_reviews(study), {"decision": "unusable", "note": "Wrong series."}, format="json")
    alice_api.post(_reviews(study), {"decision": "confirmed"}, format="json")
    response = alice_api.get(_reviews(study))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert [(item["decision"], item["final_finding"]) for item in response.json()] == [("unusable", "not_analysed"), ("confirmed", "tumour_finding")]


def test_an_unfinished_study_has_answer_analysing_no_report_and_refuses_reviews(alice_api, alice):
    study = study_ingest(owner=alice, files=uploads(dicom_series(2)))
    detail = alice_api.get(f"/api/v1/studies/{study.id}/").json()
    assert detail["answer"]["finding"] == "analysing" and detail["links"]["report"] is None
    assert_json_error(alice_api.post(_reviews(study), {"decision": "confirmed"}, format="json"), 409)
    assert_json_error(alice_api.get(f"/api/v1/studies/{study.id}/report"), 409)


@pytest.mark.parametrize("body, code", [
    ({"decision": "overridden"}, 400),
    ({"decision": "overridden", "override_finding": "not_analysed"}, 400),
    ({"decision": "perhaps"}, 400),
    ({"decision": "overridden", "override_finding": "tumour_finding"}, 409),  # the slices' own finding
])  # fmt: skip
def test_bad_reviews_are_refused_and_store_nothing(alice_api, study, body, code):
    assert_json_error(alice_api.post(_reviews(study), body, format="json"), code)
    assert not StudyReview.objects.exists()


def test_the_report_is_a_pdf_with_the_answer(alice_api, alice, study):
    response = alice_api.get(f"/api/v1/studies/{study.id}/report?paper=letter")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert round(float(reader.pages[0].mediabox.width)) == 612 and "brain MRI study report" in reader.pages[0].extract_text()
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_REPORT, object_type="study", object_id=str(study.id), actor=alice).count() == 1
    assert_json_error(alice_api.get(f"/api/v1/studies/{study.id}/report?paper=a5"), 400)


def test_charlie_gets_404_everywhere(charlie_api, charlie, study):
    for study_id in (study.id, uuid.uuid4()):
        assert_json_error(charlie_api.get(f"/api/v1/studies/{study_id}/reviews/"), 404)
        assert_json_error(charlie_api.post(f"/api/v1/studies/{study_id}/reviews/", {"decision": "confirmed"}, format="json"), 404)
        assert_json_error(charlie_api.get(f"/api/v1/studies/{study_id}/report"), 404)
    assert not StudyReview.objects.exists()
    assert not AuditEvent.objects.filter(action__in=[AuditAction.REVIEW, AuditAction.DOWNLOAD_REPORT]).exists()
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, actor=charlie, object_id=str(study.id)).count() == 3
