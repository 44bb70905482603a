"""The result page /scans/<uuid>/."""

import re
import uuid

import pytest

from scans.services import scan_fail
from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db


def test_it_shows_the_owner_a_finished_result(client, alice):
    scan = make_done_scan(alice, patient_reference="STUDY-7")
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    assert 'data-testid="result-label">Glioma<' in content
    assert "glial" in content  # the plain-language explanation of the class
    assert 'data-testid="confidence">70 %<' in content  # calibrated confidence, in ml.wording's format
    for name in ("Glioma", "Meningioma", "No tumour detected", "Pituitary tumour"):
        assert name in content
    assert f"/scans/{scan.id}/image/" in content and f"/scans/{scan.id}/heatmap/" in content
    assert 'id="heatmap-opacity"' in content
    assert "fake-1" in content
    # What a user cares about, not the model's internals (those stay in the API and admin).
    assert "waited in queue" in content and "analysed in" in content and "total 12 ms" not in content
    assert "Not a diagnosis." in content
    assert "STUDY-7" in content
    assert "needs-review" not in content
    assert 'id="live-status"' not in content


def test_it_shows_an_unmistakable_banner_when_the_model_is_unsure(client, alice):
    scan = make_done_scan(alice, result=unsure_result())
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    assert 'data-testid="needs-review"' in content and "Needs review: the model is unsure" in content
    assert "The model is unsure: glioma 51 %, meningioma 40 %." in content  # the plain reason
    # The numbers behind it only under a collapsed "Technical details".
    details = content[content.index('data-testid="technical-details"'):]
    assert "abstain threshold 0.940" in details
    assert content.count("abstain threshold 0.940") == 1


def test_a_refused_image_gets_no_label_no_probabilities_and_no_heatmap(client, alice):
    scan = make_done_scan(alice, result=refused_result())
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    assert 'data-testid="answer-headline">Not analysed — this does not look like a brain MRI<' in content
    assert "This image does not look like a brain MRI slice, so the model did not analyse it." in content
    assert "Meningioma" not in content.split('data-testid="review-panel"')[0]
    assert "91 %" not in content and "91%" not in content and "meningiomas" not in content
    assert 'data-testid="probabilities"' not in content and f"/scans/{scan.id}/heatmap/" not in content
    assert "not sure" not in content and 'data-testid="needs-review"' not in content
    details = content[content.index("<details"):content.index("</details>")]
    assert "Feature distance 29.2" in details and "<details open" not in content
    # Nor by its URL: the map over an image the model did not judge would look like a finding.
    assert client.get(f"/scans/{scan.id}/heatmap/").status_code == 404
    assert client.get(f"/scans/{scan.id}/heat/").status_code == 404
    assert client.get(f"/scans/{scan.id}/image/").status_code == 200


def test_a_reviewed_scan_leads_with_the_final_label_and_what_the_ai_suggested(client, alice, bob):
    result = FakeResult(label="notumor", confidence=0.996, probabilities={"glioma": 0.002, "meningioma": 0.001, "notumor": 0.996, "pituitary": 0.001})
    scan = make_done_scan(alice, result=result)
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    headline = content.index('data-testid="answer-headline">Glioma<')
    assert headline < content.index('data-testid="result-label"')  # the final label comes first
    assert re.search(r"reviewed by bob, \d{4}-\d\d-\d\d \d\d:\d\d \w+; the AI suggested No tumour detected, &gt; 99 %", content)
    assert 'data-testid="confidence">&gt; 99 %<' in content
    assert "100 %" not in content and "100%" not in content and "99.6 %" not in content
    assert "&lt; 1 %" in content  # the other classes' bars
    assert 'data-testid="needs-review"' not in content


def test_a_review_settles_a_needs_review_scan(client, alice, bob):
    scan = make_done_scan(alice, result=unsure_result())
    review_create(scan=scan, reviewer=bob, decision="confirmed")
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    assert 'data-testid="needs-review"' not in content
    assert 'data-testid="answer-headline">Glioma<' in content and "confirmed by bob" in content


def test_it_shows_a_live_status_while_the_scan_waits(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    assert 'id="live-status"' in content and f'data-status-url="/scans/{scan.id}/status/"' in content
    assert "scans/detail.js" in content and "Elapsed" in content
    assert 'http-equiv="refresh"' not in content  # polling, never a page-refresh loop


def test_it_shows_the_reason_and_a_retry_button_when_the_analysis_failed(client, alice):
    scan = make_scan(alice)
    scan_fail(scan_id=scan.id, reason="The stored image is damaged.")
    client.force_login(alice)
    content = client.get(f"/scans/{scan.id}/").content.decode()
    assert "The stored image is damaged." in content
    assert f'action="/scans/{scan.id}/retry/"' in content


def test_it_lets_a_reviewer_see_another_users_scan(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    response = client.get(f"/scans/{scan.id}/")
    assert response.status_code == 200 and "uploaded by alice" in response.content.decode()


def test_charlie_gets_404(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    assert client.get(f"/scans/{scan.id}/").status_code == 404
    assert client.post(f"/scans/{scan.id}/").status_code == 404


def test_it_gives_the_same_404_for_a_scan_that_does_not_exist(client, alice):
    client.force_login(alice)
    assert client.get(f"/scans/{uuid.uuid4()}/").status_code == 404


def test_it_rejects_post_from_the_owner(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    assert client.post(f"/scans/{scan.id}/").status_code == 405


def test_it_redirects_anonymous_users_to_login(client, alice):
    scan = make_scan(alice)
    response = client.get(f"/scans/{scan.id}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_records_the_view_in_the_audit_trail(client, alice):
    from accounts.models import AuditEvent

    scan = make_scan(alice)
    client.force_login(alice)
    client.get(f"/scans/{scan.id}/")
    assert AuditEvent.objects.filter(action="view_result", object_id=str(scan.id), actor=alice).exists()
