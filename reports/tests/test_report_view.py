import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import AuditEvent
from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result

pytestmark = pytest.mark.django_db


def _url(scan, **query):
    url = reverse("reports:scan_report", args=[scan.id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_owner_downloads_a_pdf(client, alice):
    scan = make_done_scan(alice, name="brain <1>.png", patient_reference="STUDY-4")
    client.force_login(alice)
    response = client.get(_url(scan))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    short = "NS-" + scan.id.hex[:4].upper() + "-" + scan.id.hex[4:8].upper()
    day = scan.created_at.strftime("%Y-%m-%d")
    assert response["Content-Disposition"] == f'attachment; filename="neuroscan-{day}-STUDY-4-{short}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "STUDY-4" in text and "brain <1>.png" in text and "Glioma" in text
    assert "Validation accuracy" in text and "Tumour vs no tumour" in text  # from the committed model card
    assert sum(len(page.images) for page in reader.pages) == 2
    [event] = AuditEvent.objects.filter(action="download_report")
    assert event.actor == alice and event.object_id == str(scan.id)


def test_a_reviewer_downloads_it_too_and_letter_paper_works(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    response = client.get(_url(scan, paper="letter"))
    assert response.status_code == 200
    assert round(float(PdfReader(io.BytesIO(response.content)).pages[0].mediabox.width)) == 612


def test_charlie_gets_404(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    assert client.get(_url(scan)).status_code == 404
    assert client.post(_url(scan)).status_code == 404
    assert not AuditEvent.objects.filter(action="download_report").exists()


def test_an_unfinished_scan_answers_409(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    response = client.get(_url(scan))
    assert response.status_code == 409
    assert "has not finished" in response.content.decode()


def test_the_report_changes_after_a_review(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(alice)
    before = "".join(p.extract_text() for p in PdfReader(io.BytesIO(client.get(_url(scan)).content)).pages)
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="meningioma", note="Extra-axial.")
    after = "".join(p.extract_text() for p in PdfReader(io.BytesIO(client.get(_url(scan)).content)).pages)
    assert "Not reviewed" in before
    assert "Not reviewed" not in after and "Extra-axial." in after and "AI result overridden" in after


def test_anonymous_is_redirected(client, alice):
    scan = make_done_scan(alice)
    assert client.get(_url(scan)).status_code == 302


def _pdf_text(response) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_a_reviewed_scan_prints_its_final_label_first(client, alice, bob):
    scan = make_done_scan(alice, result=FakeResult(label="notumor"))
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    client.force_login(alice)
    text = _pdf_text(client.get(_url(scan)))
    first_section = text[text.index("Answer"):text.index("Patient reference")]
    assert "Glioma" in first_section and "Reviewed by bob" in first_section
    assert "the AI suggested No tumour detected, 70 %" in first_section


def test_a_refused_scan_prints_no_label_and_no_heatmap(client, alice):
    scan = make_done_scan(alice, result=refused_result())
    client.force_login(alice)
    response = client.get(_url(scan))
    text = _pdf_text(response)
    assert "Not analysed — this does not look like a brain MRI" in text
    assert "Meningioma" not in text and "91 %" not in text
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(response.content)).pages) == 1
