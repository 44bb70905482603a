"""The study report: summary, the reviewed finding, key slices with heatmaps, the strip chart, reviews, model card."""

import io
import shutil
import subprocess
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from accounts.models import AuditEvent
from conftest import SCREENSHOTS, need_service
from reports.study_pdf import SeriesStrip, StudyReportInput, build_study_report_pdf
from reports.study_services import report_input_for_study
from reviews.services import review_create
from studies.reviews import study_review_create
from studies.services import study_ingest
from studies.tests.factories import dicom_series, uploads
from studies.tests.summarised import glioma, no_tumour, result, slice_scans, summarised_study

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def study(alice):
    meningioma = result("meningioma", {"glioma": 0.05, "meningioma": 0.8, "notumor": 0.1, "pituitary": 0.05})
    return summarised_study(alice, [no_tumour(), glioma(0.9), meningioma, no_tumour()], patient_reference="STUDY-12")


def test_the_pdf_has_the_reviewed_finding_the_summary_key_slices_chart_reviews_and_model(study, bob):
    study_review_create(study=study, reviewer=bob, decision="overridden", override_finding="no_tumour", note="Old scar, not a tumour.")
    pdf = build_study_report_pdf(report_input_for_study(study=study))
    text = _text(pdf)
    assert "brain MRI study report" in text and "STUDY-12" in text and "AX T2 FLAIR" in text
    # The reviewed finding is the answer; the AI summary stays beside it, as recorded.
    answer = text.split("Answer", 1)[1]
    assert answer.lstrip().startswith("No tumour on every analysed slice") and "Reviewed by bob" in answer
    assert "AI summary (written when the last slice finished" in text and "Tumour finding" in text and "Glioma 1, Meningioma 1" in text
    assert "Tumour probability along the series" in text
    # Key slices: the top glioma slice (2) and the top meningioma slice (3); pituitary's top is one of them.
    assert "Series 1, slice 2 — highest Glioma probability (90 %)" in text
    assert "Series 1, slice 3 — highest Meningioma probability (80 %), highest Pituitary tumour probability (5 %)" in text
    assert "Overridden: No tumour on every analysed slice" in text and "Old scar, not a tumour." in text
    assert "Validation accuracy" in text or "Limitations" in text  # the model card summary, as the scan PDF has it
    assert "fake-1" in text and "Not a diagnosis" in text
    assert _image_count(pdf) == 4  # two key slices, each the original and its heatmap


def test_a_slice_review_after_the_summary_shows_in_the_report(study, bob):
    scans = slice_scans(study)
    for scan in scans[1:3]:
        review_create(scan=scan, reviewer=bob, decision="overridden", override_label="notumor", note="Artefact.")
    text = _text(build_study_report_pdf(report_input_for_study(study=study)))
    assert text.split("Answer", 1)[1].lstrip().startswith("No tumour on every analysed slice")
    assert "2 slices reviewed by a person" in text and "the summary said Tumour finding" in text
    assert "Not reviewed. The study's finding has not been checked by a person." in text


def test_an_unfinished_study_has_no_report_yet(client, alice):
    study = study_ingest(owner=alice, files=uploads(dicom_series(2)))
    client.force_login(alice)
    response = client.get(reverse("reports:study_report", args=[study.id]))
    assert response.status_code == 409 and "not all been analysed" in response.content.decode()


def test_the_owner_downloads_it_and_it_is_audited(client, alice, study):
    client.force_login(alice)
    response = client.get(reverse("reports:study_report", args=[study.id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="neuroscan-study-')
    assert "-STUDY-12-NS-S-" in response["Content-Disposition"]
    [event] = AuditEvent.objects.filter(action="download_report")
    assert (event.actor, event.object_type, event.object_id) == (alice, "study", str(study.id))


def test_a_reviewer_downloads_it_on_letter_paper(client, bob, study):
    client.force_login(bob)
    response = client.get(reverse("reports:study_report", args=[study.id]) + "?paper=letter")
    assert response.status_code == 200
    assert round(float(PdfReader(io.BytesIO(response.content)).pages[0].mediabox.width)) == 612


def test_charlie_gets_404(client, charlie, study):
    client.force_login(charlie)
    for study_id in (study.id, uuid.uuid4()):
        assert client.get(reverse("reports:study_report", args=[study_id])).status_code == 404
    assert not AuditEvent.objects.filter(action="download_report").exists()
    assert AuditEvent.objects.filter(action="access_denied", object_type="study", object_id=str(study.id)).exists()


def test_the_strip_chart_is_drawn(tmp_path):
    need_service("pdftoppm (poppler-utils)", shutil.which("pdftoppm") is not None)
    generated = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    probabilities = [0.02, 0.05, None, 0.4, 0.92, 0.97, 0.6, 0.1, 0.03]
    report = StudyReportInput(
        report_id="NS-S-0000-0001", study_id="00000000-0000-4000-8000-000000000001", generated_at=generated,
        patient_ref="", uploaded_at=generated, original_name="study.zip", source="DICOM series",
        headline="Tumour finding", byline="from the slices' answers (AI)", summary_state="Tumour finding",
        summary_rows=[("Slices", "9")], summarised_at=generated,
        strips=[SeriesStrip(number=1, description="AX T1 C+", probabilities=probabilities)],
    )  # fmt: skip
    pdf = tmp_path / "study.pdf"
    pdf.write_bytes(build_study_report_pdf(report))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SCREENSHOTS / "study-report-page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(prefix)], check=True)
    pixels = np.asarray(Image.open(f"{prefix}.png").convert("RGB")).astype(int)
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 100)  # the bars at or over 50 %
    blue = (pixels[..., 2] > 180) & (pixels[..., 0] < 60)  # the bars under 50 %
    assert red.sum() > 50 and blue.sum() > 5
