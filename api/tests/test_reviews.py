"""POST /api/v1/scans/{id}/reviews/: the owner or a reviewer confirms or overrides the AI label."""

import pytest

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from reviews.models import Review
from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db


def url(scan) -> str:
    return f"/api/v1/scans/{scan.id}/reviews/"


def test_the_owner_may_confirm(alice_api, alice):
    scan = make_done_scan(alice)
    response = alice_api.post(url(scan), {"decision": "confirmed", "note": "Agree."}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["reviewer"] == "alice" and body["decision"] == "confirmed" and body["final_label"] == "glioma"
    review = Review.objects.get()
    assert body["id"] == review.pk and review.note == "Agree."
    assert AuditEvent.objects.filter(action=AuditAction.REVIEW, actor=alice, object_id=str(scan.id)).count() == 1


def test_a_reviewer_may_override(bob_api, alice, bob):
    scan = make_done_scan(alice)
    response = bob_api.post(url(scan), {"decision": "overridden", "override_label": "pituitary"}, format="json")
    assert response.status_code == 201 and response.json()["final_label"] == "pituitary"
    assert Review.objects.get().reviewer == bob


def test_a_double_submission_stores_one_review(alice_api, alice):
    scan = make_done_scan(alice)
    first = alice_api.post(url(scan), {"decision": "confirmed"}, format="json").json()
    second = alice_api.post(url(scan), {"decision": "confirmed"}, format="json").json()
    assert first == second and Review.objects.count() == 1


@pytest.mark.parametrize(
    "data", [{}, {"decision": "maybe"}, {"decision": "overridden"}, {"decision": "overridden", "override_label": "x"}]
)
def test_it_refuses_bad_reviews(alice_api, alice, data):
    assert_json_error(alice_api.post(url(make_done_scan(alice)), data, format="json"), 400)
    assert not Review.objects.exists()


def test_it_refuses_an_override_with_the_ai_label(alice_api, alice):
    data = {"decision": "overridden", "override_label": "glioma"}
    body = assert_json_error(alice_api.post(url(make_done_scan(alice)), data, format="json"), 409)
    assert "AI label" in body["error"] and not Review.objects.exists()


def test_it_refuses_an_unfinished_scan(alice_api, alice):
    body = assert_json_error(alice_api.post(url(make_scan(alice)), {"decision": "confirmed"}, format="json"), 409)
    assert "finished" in body["error"] and not Review.objects.exists()


def test_it_checks_owner(charlie_api, alice):
    assert_json_error(charlie_api.post(url(make_done_scan(alice)), {"decision": "confirmed"}, format="json"), 404)
    assert not Review.objects.exists()


def test_it_rejects_get(alice_api, alice):
    assert_json_error(alice_api.get(url(make_done_scan(alice))), 405)


def test_anonymous_gets_401(client, alice):
    assert_json_error(client.post(url(make_done_scan(alice)), {"decision": "confirmed"}), 401)


def test_a_reviewer_marks_an_image_unusable(bob_api, alice):
    scan = make_done_scan(alice)
    response = bob_api.post(url(scan), {"decision": "unusable", "note": "Fundus photograph."}, format="json")
    assert response.status_code == 201
    assert response.json()["decision"] == "unusable" and response.json()["final_label"] == ""
    final = bob_api.get(f"/api/v1/scans/{scan.id}/").json()["final"]
    assert final["state"] == "not_analysed" and final["label"] is None and final["reason"] == "Fundus photograph."
