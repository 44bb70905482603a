"""The study pages: upload, list, detail with its viewer, and the status JSON the viewer reads."""

import uuid

import pytest
from django.urls import reverse

from accounts.audit import AuditAction, AuditOutcome
from accounts.models import AuditEvent
from scans.models import ScanStatus
from scans.tests.factories import FakeResult, PHI_STRINGS
from studies.models import Study, StudySlice
from studies.services import study_ingest
from studies.tests.factories import dicom_series, nifti_upload, nifti_volume, uploads, zip_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(alice):
    return study_ingest(owner=alice, files=uploads(dicom_series(3)))


def test_the_upload_page_explains_what_a_study_is(client, alice):
    client.force_login(alice)
    page = client.get(reverse("studies:upload")).content.decode()
    assert "NIfTI" in page and ".zip" in page and 'name="files"' in page and "multiple" in page


def test_an_uploaded_series_opens_its_study_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("studies:upload"), {"files": uploads(dicom_series(3)), "patient_reference": "REF-1"})
    study = Study.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("studies:detail", args=[study.id])
    page = client.get(response["Location"]).content.decode()
    assert "0 of 3 slices analysed" in page and "AX T2 FLAIR" in page and "TE 120.0 ms" in page
    assert 'src="/static/studies/study.js"' in page and "<script>" not in page  # no inline script (CSP)
    assert not any(needle in page for needle in PHI_STRINGS)


def test_a_refused_study_is_explained_file_by_file(client, alice):
    client.force_login(alice)
    response = client.post(reverse("studies:upload"), {"files": [zip_upload([("notes.txt", b"hello")])]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was stored" in page and "notes.txt" in page and "Not a DICOM file" in page
    assert not Study.objects.exists()


def test_an_upload_without_files_is_refused(client, alice):
    client.force_login(alice)
    assert client.post(reverse("studies:upload"), {}).status_code == 400


def test_a_nifti_volume_is_taken_from_the_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("studies:upload"), {"files": [nifti_upload(nifti_volume((12, 10, 4)))]})
    assert response.status_code == 302 and Study.objects.get().source == "nifti"


def test_the_list_shows_only_your_studies(client, alice, charlie, study):
    client.force_login(alice)
    assert study.original_name in client.get(reverse("studies:list")).content.decode()
    client.force_login(charlie)
    assert 'data-testid="no-studies"' in client.get(reverse("studies:list")).content.decode()


def test_the_status_lists_every_slice_with_its_progress(client, alice, study):
    from scans.services import _prediction_store

    first = StudySlice.objects.filter(series__study=study).order_by("position").first()
    result = FakeResult(probabilities={"glioma": 0.7, "meningioma": 0.1, "notumor": 0.1, "pituitary": 0.1})
    _prediction_store(scan_id=first.scan_id, result=result, overlay_png=b"\x89PNG fake")
    client.force_login(alice)
    status = client.get(reverse("studies:status", args=[study.id])).json()
    assert status["progress"] == {"total": 3, "finished": 1, "failed": 0} and status["finished"] is False
    done = status["slices"][0]
    assert done["status"] == ScanStatus.DONE and done["tumour_probability"] == pytest.approx(0.9)
    assert done["tumour_probability_text"] == "90 %" and done["answer_state"] == "analysed"
    assert done["answer"].startswith("Glioma")
    assert done["image_url"] == reverse("scans:image", args=[first.scan_id])
    assert done["heatmap_url"] == reverse("scans:heatmap", args=[first.scan_id])
    assert [item["position"] for item in status["slices"]] == [0, 1, 2]
    assert status["slices"][1]["heatmap_url"] is None and status["slices"][1]["tumour_probability"] is None


def test_a_slice_refused_as_not_mri_offers_no_heatmap(client, alice, study):
    from scans.services import _prediction_store
    from scans.tests.factories import refused_result

    first = StudySlice.objects.filter(series__study=study).order_by("position").first()
    _prediction_store(scan_id=first.scan_id, result=refused_result(), overlay_png=b"\x89PNG fake")
    client.force_login(alice)
    refused = client.get(reverse("studies:status", args=[study.id])).json()["slices"][0]
    assert refused["status"] == ScanStatus.DONE and refused["answer_state"] == "not_analysed"
    assert refused["heatmap_url"] is None and refused["image_url"] == reverse("scans:image", args=[first.scan_id])
    assert client.get(reverse("scans:heatmap", args=[first.scan_id])).status_code == 404


def test_a_reviewer_sees_the_study(client, bob, study):
    client.force_login(bob)
    assert client.get(reverse("studies:detail", args=[study.id])).status_code == 200
    assert client.get(reverse("studies:status", args=[study.id])).status_code == 200


@pytest.mark.parametrize("name", ["studies:detail", "studies:status"])
def test_charlie_gets_404(client, charlie, study, name):
    client.force_login(charlie)
    assert client.get(reverse(name, args=[study.id])).status_code == 404
    assert client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404
    denied = AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, object_type="study", outcome=AuditOutcome.DENIED)
    assert denied.filter(object_id=str(study.id), actor=charlie).exists()


def test_the_pages_need_a_login(client, study):
    for url in (reverse("studies:list"), reverse("studies:upload"), reverse("studies:detail", args=[study.id])):
        assert client.get(url).status_code == 302


def test_the_detail_page_rejects_post(client, alice, study):
    client.force_login(alice)
    assert client.post(reverse("studies:detail", args=[study.id])).status_code == 405


def test_viewing_a_study_is_audited(client, alice, study):
    client.force_login(alice)
    client.get(reverse("studies:detail", args=[study.id]))
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_RESULT, object_type="study", object_id=str(study.id)).count() == 1
