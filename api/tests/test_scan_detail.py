"""GET /api/v1/scans/{id}/: the owner and reviewers see it; anyone else, like an unknown id, gets 404."""

import uuid

import pytest

from accounts.audit import AuditAction, AuditOutcome
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db


def url(scan) -> str:
    return f"/api/v1/scans/{scan.id}/"


def test_it_shows_a_finished_scan(alice_api, alice):
    scan = make_done_scan(alice, patient_reference="STUDY-1", name="brain.png")
    response = alice_api.get(url(scan))
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["id"] == str(scan.id) and body["status"] == "done"
    assert body["original_filename"] == "brain.png" and body["patient_ref"] == "STUDY-1"
    assert (body["width"], body["height"]) == (96, 80) and body["failure_reason"] == ""
    assert body["result"] == {
        "label": "glioma",
        "probabilities": {"glioma": 0.7, "meningioma": 0.1, "notumor": 0.1, "pituitary": 0.1},
        "confidence": 0.7,
        "abstained": False,
        "abstain_kind": None,
        "abstain_reason": None,
        "technical_detail": "",
        "confidence_display": "70 %",
        "probabilities_display": {"glioma": "70 %", "meningioma": "10 %", "notumor": "10 %", "pituitary": "10 %"},
        "model_version": "fake-1",
        "timings_ms": {"total": 12.0},
    }
    assert body["final"] == {
        "state": "analysed", "label": "glioma", "label_display": "Glioma", "source": "ai", "reviewer": None,
        "reviewed_at": None, "headline": "Glioma", "byline": "AI suggestion, 70 %; not reviewed by a person yet", "reason": "",
    }  # fmt: skip
    base = f"http://testserver/api/v1/scans/{scan.id}"
    assert body["links"] == {"image": f"{base}/image", "heatmap": f"{base}/heatmap", "report": f"{base}/report"}
    assert body["reviews"] == []


def test_it_shows_no_result_while_queued(alice_api, alice):
    body = alice_api.get(url(make_scan(alice))).json()
    assert body["status"] == "queued" and body["result"] is None
    assert body["links"]["heatmap"] is None and body["links"]["report"] is None


def test_it_shows_an_abstention_and_the_reviews(alice_api, alice, bob):
    scan = make_done_scan(alice, result=unsure_result())
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="meningioma", note="Dural tail.")
    body = alice_api.get(url(scan)).json()
    assert body["result"]["abstained"] is True and body["result"]["abstain_kind"] == "unsure"
    assert body["result"]["abstain_reason"] == "The model is unsure: glioma 51 %, meningioma 40 %. A person should read this slice."
    assert "abstain threshold" in body["result"]["technical_detail"]
    [review] = body["reviews"]
    assert review["reviewer"] == "bob" and review["decision"] == "overridden"
    assert review["ai_label"] == "glioma" and review["final_label"] == "meningioma" and review["note"] == "Dural tail."


def test_a_reviewed_scan_has_the_final_label_in_final_and_the_ais_in_result(alice_api, alice, bob):
    result = FakeResult(label="notumor", confidence=0.996, probabilities={"glioma": 0.002, "meningioma": 0.001, "notumor": 0.996, "pituitary": 0.001})
    scan = make_done_scan(alice, result=result)
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    body = alice_api.get(url(scan)).json()
    final = body["final"]
    assert (final["state"], final["label"], final["source"], final["reviewer"]) == ("analysed", "glioma", "reviewer", "bob")
    assert final["reviewed_at"] and final["byline"].endswith("the AI suggested No tumour detected, > 99 %")
    assert body["result"]["label"] == "notumor" and body["result"]["confidence_display"] == "> 99 %"
    assert body["result"]["probabilities_display"]["pituitary"] == "< 1 %"


def test_a_refused_scan_has_no_final_label_and_no_heatmap_link(alice_api, alice):
    body = alice_api.get(url(make_done_scan(alice, result=refused_result()))).json()
    assert body["final"]["state"] == "not_analysed" and body["final"]["label"] is None and body["final"]["label_display"] == ""
    assert body["final"]["headline"] == "Not analysed — this does not look like a brain MRI"
    assert body["final"]["reason"] == "This image does not look like a brain MRI slice, so the model did not analyse it."
    assert body["result"]["abstain_kind"] == "not_mri"  # the record stays as the model wrote it
    assert body["links"]["heatmap"] is None and body["links"]["report"] is not None
    refused = alice_api.get(f"/api/v1/scans/{body['id']}/heatmap")
    assert refused.status_code == 404 and "refused" in refused.json()["error"]


def test_it_audits_the_view(alice_api, alice):
    scan = make_done_scan(alice)
    alice_api.get(url(scan))
    event = AuditEvent.objects.get(action=AuditAction.VIEW_RESULT)
    assert event.actor == alice and event.object_id == str(scan.id)


def test_reviewers_see_others_scans(bob_api, alice):
    assert bob_api.get(url(make_done_scan(alice))).status_code == 200


def test_it_checks_owner(charlie_api, alice, charlie):
    scan = make_done_scan(alice)
    foreign = assert_json_error(charlie_api.get(url(scan)), 404)
    unknown = assert_json_error(charlie_api.get(f"/api/v1/scans/{uuid.uuid4()}/"), 404)
    assert foreign == unknown
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_RESULT).exists()
    denied = AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, actor=charlie, outcome=AuditOutcome.DENIED)
    assert denied.count() == 2


def test_it_answers_json_404_for_a_malformed_id(alice_api):
    assert_json_error(alice_api.get("/api/v1/scans/not-a-uuid/"), 404)


def test_it_rejects_post(alice_api, alice):
    assert_json_error(alice_api.post(url(make_scan(alice))), 405)


def test_anonymous_gets_401(client, alice):
    assert_json_error(client.get(url(make_scan(alice))), 401)
