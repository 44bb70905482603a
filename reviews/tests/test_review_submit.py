import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from reviews.models import Review
from scans.answer import answer_of
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db


def _url(scan):
    return reverse("reviews:submit", args=[scan.id])


def test_a_reviewer_confirms_the_ai_label(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    response = client.post(_url(scan), {"decision": "confirmed", "note": "Agree."})
    assert response.status_code == 302
    [review] = Review.objects.all()
    assert (review.reviewer, review.decision, review.final_label, review.ai_label) == (bob, "confirmed", "glioma", "glioma")
    assert review.model_version == "fake-1" and review.note == "Agree."
    [event] = AuditEvent.objects.filter(action="review")
    assert event.actor == bob and event.object_id == str(scan.id)


def test_the_owner_overrides_their_own_result(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    client.post(_url(scan), {"decision": "overridden", "override_label": "meningioma", "note": "Dural tail."})
    [review] = Review.objects.all()
    assert (review.decision, review.final_label, review.ai_label) == ("overridden", "meningioma", "glioma")


def test_an_override_must_name_another_class(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    for label in ("", "glioma", "banana"):
        client.post(_url(scan), {"decision": "overridden", "override_label": label})
    assert not Review.objects.exists()
    assert not AuditEvent.objects.filter(action="review").exists()


def test_a_later_review_supersedes_without_editing(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(alice)
    client.post(_url(scan), {"decision": "confirmed"})
    client.force_login(bob)
    client.post(_url(scan), {"decision": "overridden", "override_label": "pituitary", "note": "Sellar mass."})
    first, second = Review.objects.order_by("created_at", "id")
    assert (first.reviewer, first.final_label) == (alice, "glioma")
    assert (second.reviewer, second.final_label) == (bob, "pituitary")
    page = client.get(reverse("scans:detail", args=[scan.id])).content.decode()
    assert "Sellar mass." in page


def test_a_double_submission_stores_one_review(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    client.post(_url(scan), {"decision": "confirmed", "note": "ok"})
    client.post(_url(scan), {"decision": "confirmed", "note": "ok"})
    assert Review.objects.count() == 1


def test_an_unfinished_scan_cannot_be_reviewed(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    client.post(_url(scan), {"decision": "confirmed"})
    assert not Review.objects.exists()


def test_charlie_gets_404_and_nothing_is_stored(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    assert client.post(_url(scan), {"decision": "confirmed"}).status_code == 404
    assert client.get(_url(scan)).status_code == 404
    assert not Review.objects.exists()


def test_it_rejects_get(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    assert client.get(_url(scan)).status_code == 405


def test_it_requires_csrf(alice):
    # Without a valid token nothing is saved; the form goes back to its scan, filled in again
    # (neuroscan/tests/test_error_pages.py checks the note is kept).
    scan = make_done_scan(alice)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post(_url(scan), {"decision": "confirmed"})
    assert response.status_code == 302 and response["Location"] == f"/scans/{scan.id}/"
    assert not Review.objects.exists()


def test_reviews_cannot_be_changed(alice):
    from neuroscan.append_only import AppendOnlyError
    from reviews.services import review_create

    review = review_create(scan=make_done_scan(alice), reviewer=alice, decision="confirmed")
    review.note = "edited"
    with pytest.raises(AppendOnlyError):
        review.save()
    with pytest.raises(AppendOnlyError):
        Review.objects.all().delete()


def test_an_abstained_result_can_be_reviewed(client, alice, bob):
    scan = make_done_scan(alice, result=unsure_result())
    client.force_login(bob)
    client.post(_url(scan), {"decision": "overridden", "override_label": "notumor"})
    assert Review.objects.get().final_label == "notumor"


def test_charlies_attempt_is_on_record_as_denied(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    client.get(reverse("scans:detail", args=[scan.id]))
    [event] = AuditEvent.objects.filter(action="access_denied")
    assert (event.actor, event.object_id, event.outcome) == (charlie, str(scan.id), "denied")
    assert not AuditEvent.objects.filter(action="view_result").exists()


def test_a_reviewer_marks_an_image_not_a_brain_mri_and_its_answer_becomes_not_analysed(client, alice, bob):
    scan = make_done_scan(alice)  # the AI says glioma
    client.force_login(bob)
    client.post(_url(scan), {"decision": "unusable", "note": "A chest CT, uploaded by mistake."})
    [review] = Review.objects.all()
    assert (review.decision, review.final_label, review.ai_label) == ("unusable", "", "glioma")
    answer = answer_of(scan)
    assert (answer.state, answer.final_label, answer.reviewer) == ("not_analysed", None, "bob")
    assert answer.reason == "A chest CT, uploaded by mistake."
    client.force_login(alice)
    page = client.get(reverse("scans:detail", args=[scan.id])).content.decode()
    assert "a reviewer marked this image as not a brain MRI or unusable" in page
    assert "A chest CT, uploaded by mistake." in page


def test_a_refusal_cannot_be_confirmed_but_can_be_given_any_class(client, alice, bob):
    scan = make_done_scan(alice, result=refused_result())  # argmax meningioma, but no label
    client.force_login(bob)
    client.post(_url(scan), {"decision": "confirmed"})
    assert not Review.objects.exists()
    client.post(_url(scan), {"decision": "overridden", "override_label": "meningioma", "note": "It is an MRI."})
    assert Review.objects.get().final_label == "meningioma"
    assert answer_of(scan).state == "analysed" and answer_of(scan).label_name == "Meningioma"


def test_the_review_form_offers_not_a_brain_mri_and_hides_confirm_for_a_refusal(client, alice, bob):
    scan = make_done_scan(alice, result=refused_result())
    client.force_login(bob)
    page = client.get(reverse("scans:detail", args=[scan.id])).content.decode()
    assert 'value="unusable"' in page and 'value="confirmed"' not in page


def test_superseded_reviews_are_marked_superseded(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    client.post(_url(scan), {"decision": "confirmed"})
    client.post(_url(scan), {"decision": "overridden", "override_label": "pituitary"})
    client.post(_url(scan), {"decision": "overridden", "override_label": "meningioma"})
    panel = client.get(reverse("scans:detail", args=[scan.id])).content.decode()
    assert panel.count('data-testid="superseded"') == 2
    assert panel.index("Confirmed: Glioma") < panel.index("Overridden: Meningioma")


def test_save_and_next_opens_the_next_scan_of_the_worklist(client, alice, bob):
    unsure = make_done_scan(alice, result=unsure_result())
    tumour = make_done_scan(alice, result=FakeResult(label="pituitary"))
    client.force_login(bob)
    assert 'data-testid="save-and-next"' in client.get(reverse("scans:detail", args=[unsure.id])).content.decode()
    response = client.post(_url(unsure), {"decision": "confirmed", "and_next": "1"})
    assert response["Location"] == reverse("scans:detail", args=[tumour.id]) + "#review"
    response = client.post(_url(tumour), {"decision": "confirmed", "and_next": "1"})
    assert response["Location"] == reverse("reviews:worklist")


def test_the_owner_who_is_no_reviewer_gets_no_save_and_next(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    assert 'data-testid="save-and-next"' not in client.get(reverse("scans:detail", args=[scan.id])).content.decode()
