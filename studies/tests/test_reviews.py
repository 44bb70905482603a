"""Study reviews: a person confirms or overrides the study's finding; the reviewed finding is the answer."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.audit import AuditAction, AuditOutcome
from accounts.models import AuditEvent
from neuroscan.append_only import AppendOnlyError
from reviews.services import review_create
from scans.answer import SOURCE_AI, SOURCE_REVIEWER
from studies.answer import ANALYSING, study_answer
from studies.models import Study, StudyReview
from studies.reviews import study_review_create
from studies.services import study_ingest
from studies.summary import StudyState
from studies.tests.factories import dicom_series, uploads
from studies.tests.summarised import glioma, no_tumour, result, slice_scans, summarised_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(alice):
    return summarised_study(alice, [no_tumour(), glioma(0.9), no_tumour()])


def test_without_a_review_the_answer_is_what_the_slices_add_up_to(study):
    answer = study_answer(study=study)
    assert answer.finding == StudyState.TUMOUR_FINDING and answer.source == SOURCE_AI and answer.review is None
    assert answer.headline == "Tumour finding" and "not been reviewed by a person" in answer.byline


def test_an_override_becomes_the_answer_and_the_summary_stays_as_recorded(study, bob):
    review = study_review_create(study=study, reviewer=bob, decision="overridden", override_finding="no_tumour",
                                 note="Flow artefact, not a lesion.")  # fmt: skip
    assert (review.ai_finding, review.final_finding) == (StudyState.TUMOUR_FINDING, StudyState.NO_TUMOUR)
    answer = study_answer(study=study)
    assert answer.finding == StudyState.NO_TUMOUR and answer.source == SOURCE_REVIEWER and answer.review == review
    assert answer.byline.startswith("reviewed by bob, ") and "the slices' answers say Tumour finding" in answer.byline
    assert Study.objects.get(pk=study.pk).summary["state"] == StudyState.TUMOUR_FINDING  # the record is untouched


def test_the_latest_review_stands(study, alice, bob):
    study_review_create(study=study, reviewer=bob, decision="overridden", override_finding="no_tumour")
    study_review_create(study=study, reviewer=alice, decision="confirmed", note="Seen again: it is there.")
    answer = study_answer(study=study)
    assert answer.finding == StudyState.TUMOUR_FINDING and answer.review.reviewer == alice
    assert StudyReview.objects.filter(study=study).count() == 2


def test_unusable_makes_the_study_not_analysed(study, bob):
    study_review_create(study=study, reviewer=bob, decision="unusable", note="Wrong patient's series.")
    answer = study_answer(study=study)
    assert answer.finding == StudyState.NOT_ANALYSED and "marked this study as unusable" in answer.headline


def test_a_slice_review_after_the_summary_changes_the_answer_but_not_the_record(study, bob):
    scans = slice_scans(study)
    review_create(scan=scans[1], reviewer=bob, decision="overridden", override_label="notumor", note="Artefact.")
    answer = study_answer(study=study)
    assert answer.finding == StudyState.NO_TUMOUR and answer.source == SOURCE_AI and answer.reviewed_slices == 1
    assert answer.recorded_finding == StudyState.TUMOUR_FINDING and answer.summary_changed
    assert "1 slice reviewed by a person" in answer.byline
    assert Study.objects.get(pk=study.pk).summary["state"] == StudyState.TUMOUR_FINDING  # written once, kept


def test_a_stranger_who_is_not_a_reviewer_cannot_review(study, charlie):
    with pytest.raises(PermissionDenied):
        study_review_create(study=study, reviewer=charlie, decision="confirmed")
    assert not StudyReview.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.REVIEW).exists()


def test_the_owner_may_review_as_for_scans(study, alice):
    assert study_review_create(study=study, reviewer=alice, decision="confirmed").final_finding == StudyState.TUMOUR_FINDING


def test_a_review_is_audited_in_its_transaction(study, bob):
    study_review_create(study=study, reviewer=bob, decision="confirmed")
    [event] = AuditEvent.objects.filter(action=AuditAction.REVIEW)
    assert (event.actor, event.object_type, event.object_id) == (bob, "study", str(study.id))


def test_a_double_click_stores_one_review(study, bob):
    first = study_review_create(study=study, reviewer=bob, decision="confirmed", note=" same ")
    assert study_review_create(study=study, reviewer=bob, decision="confirmed", note="same") == first
    assert StudyReview.objects.count() == 1 and AuditEvent.objects.filter(action=AuditAction.REVIEW).count() == 1


@pytest.mark.parametrize("decision, finding, message", [
    ("overridden", "tumour_finding", "That is the slices' finding"),
    ("overridden", "", "Choose the finding"),
    ("overridden", "not_analysed", "Choose the finding"),
    ("maybe", "", "Choose to confirm or to override"),
])  # fmt: skip
def test_bad_decisions_are_refused_and_store_nothing(study, bob, decision, finding, message):
    with pytest.raises(ValidationError, match=message):
        study_review_create(study=study, reviewer=bob, decision=decision, override_finding=finding)
    assert not StudyReview.objects.exists() and not AuditEvent.objects.filter(action=AuditAction.REVIEW).exists()


def test_a_study_still_analysing_cannot_be_reviewed(alice, bob):
    study = study_ingest(owner=alice, files=uploads(dicom_series(2)))
    assert study_answer(study=study).finding == ANALYSING
    with pytest.raises(ValidationError, match="every slice has finished"):
        study_review_create(study=study, reviewer=bob, decision="confirmed")


def test_needs_review_cannot_be_confirmed_only_decided(alice, bob):
    unsure = result("notumor", {"glioma": 0.1, "meningioma": 0.1, "notumor": 0.7, "pituitary": 0.1}, abstained=True,
                    abstain_kind="no_tumour_unconfirmed", abstain_reason="Unsure.")  # fmt: skip
    study = summarised_study(alice, [no_tumour(), unsure])
    assert study_answer(study=study).finding == StudyState.NEEDS_REVIEW
    with pytest.raises(ValidationError, match="no finding to confirm"):
        study_review_create(study=study, reviewer=bob, decision="confirmed")
    study_review_create(study=study, reviewer=bob, decision="overridden", override_finding="no_tumour")
    assert study_answer(study=study).finding == StudyState.NO_TUMOUR


def test_reviews_are_append_only(study, bob):
    review = study_review_create(study=study, reviewer=bob, decision="confirmed")
    review.note = "changed"
    with pytest.raises(AppendOnlyError):
        review.save()
    with pytest.raises(AppendOnlyError):
        StudyReview.objects.all().delete()


# --- The page -----------------------------------------------------------------------------------


def test_the_page_shows_the_answer_beside_the_summary_and_the_review_form(client, alice, study):
    client.force_login(alice)
    page = client.get(reverse("studies:detail", args=[study.id])).content.decode()
    assert 'data-testid="study-answer-headline">Tumour finding<' in page and "Summary, written when the last slice finished" in page
    assert 'data-testid="study-review-form"' in page and "Confirm the finding (Tumour finding)" in page
    assert reverse("reports:study_report", args=[study.id]) in page


def test_a_reviewer_reviews_from_the_page_and_sees_the_history(client, bob, study):
    client.force_login(bob)
    url = reverse("studies:review", args=[study.id])
    response = client.post(url, {"decision": "overridden", "override_finding": "no_tumour", "note": "Artefact <b>"})
    assert response.status_code == 302 and response["Location"].endswith(f"/studies/{study.id}/#study-review")
    page = client.get(reverse("studies:detail", args=[study.id])).content.decode()
    assert 'data-testid="study-answer-headline">No tumour on every analysed slice<' in page
    assert "Overridden: No tumour on every analysed slice" in page and "Artefact &lt;b&gt;" in page
    assert 'data-testid="study-state">Tumour finding<' in page  # the summary, as recorded, beside it
    client.force_login(study.owner)  # the list shows one's own studies, with their answers
    assert "No tumour on every analysed slice" in client.get(reverse("studies:list")).content.decode()
    client.post(url, {"decision": "confirmed"})  # confirm what the slices say: the override is superseded
    page = client.get(reverse("studies:detail", args=[study.id])).content.decode()
    assert page.count('data-testid="study-review-entry"') == 2 and "Superseded" in page


def test_a_refused_review_from_the_page_says_why(client, bob, study):
    client.force_login(bob)
    response = client.post(reverse("studies:review", args=[study.id]), {"decision": "overridden", "override_finding": ""}, follow=True)
    assert "The review was not saved: Choose the finding" in response.content.decode()
    assert not StudyReview.objects.exists()


def test_charlie_gets_404_on_the_review_and_nothing_is_stored(client, charlie, study):
    client.force_login(charlie)
    for study_id in (study.id, uuid.uuid4()):
        assert client.post(reverse("studies:review", args=[study_id]), {"decision": "confirmed"}).status_code == 404
    assert not StudyReview.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, outcome=AuditOutcome.DENIED, object_id=str(study.id)).exists()


def test_the_review_url_rejects_get(client, alice, study):
    client.force_login(alice)
    assert client.get(reverse("studies:review", args=[study.id])).status_code == 405


def test_a_reviewed_study_keeps_its_reviewed_finding_while_a_slice_is_analysed_again(client, alice, bob):
    from scans.models import Scan
    from scans.services import scan_analyse, scan_fail, scan_retry
    from scans.tests.factories import FakeClassifier
    from studies.services import studies_sweep, study_finish

    study = study_ingest(owner=alice, files=uploads(dicom_series(2)))
    first, second = slice_scans(study)
    assert scan_analyse(scan_id=first.id, classifier_factory=lambda: FakeClassifier(no_tumour())) == "done"
    scan_fail(scan_id=second.id, reason="Interrupted.")
    assert study_finish(study_id=study.id) == "summarised"
    study.refresh_from_db()
    study_review_create(study=study, reviewer=bob, decision="confirmed", note="Read the whole series.")
    assert scan_retry(scan=Scan.objects.get(pk=second.id)) and studies_sweep()["reopened"] == 1
    study.refresh_from_db()

    answer = study_answer(study=study)
    assert answer.analysing and answer.finding == StudyState.NO_TUMOUR and answer.source == SOURCE_REVIEWER
    assert answer.byline.startswith("confirmed by bob, ") and answer.byline.endswith("some slices are being analysed again")
    with pytest.raises(ValidationError, match="every slice has finished"):
        study_review_create(study=study, reviewer=bob, decision="overridden", override_finding="tumour_finding")
    client.force_login(alice)
    page = client.get(reverse("studies:detail", args=[study.id])).content.decode()
    assert "Reviewed finding" in page and "being analysed again" in page

    assert scan_analyse(scan_id=second.id, classifier_factory=lambda: FakeClassifier(glioma(0.9))) == "done"
    assert study_finish(study_id=study.id) == "summarised"
    study.refresh_from_db()
    answer = study_answer(study=study)
    assert not answer.analysing and answer.finding == StudyState.NO_TUMOUR  # the review still stands
    assert answer.slices_finding == StudyState.TUMOUR_FINDING  # and the page says what the slices now add up to


def test_an_unreviewed_study_has_no_answer_while_analysing(alice):
    study = study_ingest(owner=alice, files=uploads(dicom_series(2)))
    answer = study_answer(study=study)
    assert answer.analysing and answer.finding == ANALYSING and answer.source is None and answer.byline == ""


def test_a_refused_study_review_comes_back_with_the_note_kept_once(client, bob, study):
    client.force_login(bob)
    client.post(reverse("studies:review", args=[study.id]), {"decision": "overridden", "override_finding": "", "note": "Flow artefact on FLAIR."})
    page = client.get(reverse("studies:detail", args=[study.id])).content.decode()
    assert ">Flow artefact on FLAIR.</textarea>" in page and 'value="overridden" id="study-review-override" checked' in page
    assert "Flow artefact" not in client.get(reverse("studies:detail", args=[study.id])).content.decode()  # shown once


def test_a_stale_study_review_form_keeps_the_note_and_saves_nothing(alice, study):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    browser.get(reverse("studies:detail", args=[study.id]))  # sets the CSRF cookie
    form = {"decision": "overridden", "override_finding": "no_tumour", "note": "Seen on the prior.", "csrfmiddlewaretoken": "x" * 64}
    response = browser.post(reverse("studies:review", args=[study.id]), form)
    assert response.status_code == 302 and response["Location"].endswith(f"/studies/{study.id}/#study-review")
    assert not StudyReview.objects.exists()
    page = browser.get(reverse("studies:detail", args=[study.id])).content.decode()
    assert "Your study review was not saved because the page had expired" in page
    assert ">Seen on the prior.</textarea>" in page and '<option value="no_tumour" selected>' in page
