"""The history page /scans/: own scans only, newest first, filters, search, counts, pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scans.models import Scan
from scans.services import scan_fail
from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db


def _rows(response) -> list[str]:
    return [str(scan.id) for scan in response.context["page"]]


def test_it_lists_only_the_users_own_scans_newest_first(client, alice, bob, charlie):
    first = make_scan(alice, name="first.png")
    second = make_scan(alice, name="second.png")
    make_scan(charlie, name="charlies.png")
    Scan.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    client.force_login(alice)
    response = client.get("/scans/")
    assert _rows(response) == [str(second.id), str(first.id)]
    content = response.content.decode()
    assert "charlies.png" not in content
    assert f"/scans/{first.id}/thumbnail/" in content


def test_even_a_reviewer_sees_only_their_own_history(client, alice, bob):
    make_scan(alice)
    client.force_login(bob)
    assert _rows(client.get("/scans/")) == []


def test_it_filters_by_final_label_and_state(client, alice, bob):
    glioma = make_done_scan(alice)
    unsure = make_done_scan(alice, result=unsure_result(label="pituitary"))
    refused = make_done_scan(alice, result=refused_result())
    overridden = make_done_scan(alice, result=FakeResult(label="notumor"))
    review_create(scan=overridden, reviewer=bob, decision="overridden", override_label="glioma")
    queued = make_scan(alice)
    failed = make_scan(alice)
    scan_fail(scan_id=failed.id, reason="Damaged.")
    client.force_login(alice)
    assert set(_rows(client.get("/scans/?label=glioma"))) == {str(glioma.id), str(overridden.id)}
    assert _rows(client.get("/scans/?label=notumor")) == []  # the reviewer's label stands
    assert _rows(client.get("/scans/?label=pituitary")) == []  # a doubt is not a finding: it has its own filter
    assert _rows(client.get("/scans/?state=needs_review")) == [str(unsure.id)]
    assert _rows(client.get("/scans/?state=not_analysed")) == [str(refused.id)]
    assert _rows(client.get("/scans/?state=queued")) == [str(queued.id)]
    assert _rows(client.get("/scans/?state=failed")) == [str(failed.id)]
    assert set(_rows(client.get("/scans/?state=analysed"))) == {str(glioma.id), str(overridden.id)}


def test_it_filters_by_date_range_with_inclusive_ends(client, alice):
    old = make_scan(alice)
    new = make_scan(alice)
    Scan.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    client.force_login(alice)
    assert _rows(client.get(f"/scans/?date_from={today}")) == [str(new.id)]
    assert _rows(client.get(f"/scans/?date_to={today - timedelta(days=1)}")) == [str(old.id)]
    assert len(_rows(client.get(f"/scans/?date_from={today - timedelta(days=10)}&date_to={today}"))) == 2


def test_it_searches_patient_reference_and_file_name(client, alice):
    by_reference = make_scan(alice, patient_reference="STUDY-0042")
    by_name = make_scan(alice, name="axial_t1_0042.png")
    make_scan(alice, name="other.png")
    client.force_login(alice)
    assert set(_rows(client.get("/scans/?q=0042"))) == {str(by_reference.id), str(by_name.id)}
    assert _rows(client.get("/scans/?q=study-0042")) == [str(by_reference.id)]


def test_it_ignores_invalid_filters(client, alice):
    make_scan(alice)
    client.force_login(alice)
    response = client.get("/scans/?label=unicorn&date_from=yesterday")
    assert response.status_code == 200 and len(_rows(response)) == 1


def test_it_counts_scans_per_final_label_with_needs_review_and_not_analysed_chips(client, alice, bob, charlie):
    make_done_scan(alice)
    make_done_scan(alice)
    make_done_scan(alice, result=FakeResult(label="notumor"))
    overridden = make_done_scan(alice, result=FakeResult(label="notumor"))
    review_create(scan=overridden, reviewer=bob, decision="overridden", override_label="meningioma")
    make_done_scan(alice, result=unsure_result())
    make_done_scan(alice, result=refused_result())  # "Meningioma 91 %" by argmax: must not count as one
    make_done_scan(charlie)
    client.force_login(alice)
    response = client.get("/scans/")
    counts = {value: count for value, _name, count, _query in response.context["chips"]}
    assert counts == {"glioma": 2, "meningioma": 1, "notumor": 1, "pituitary": 0, "needs_review": 1, "not_analysed": 1}
    content = response.content.decode()
    assert 'href="?state=needs_review"' in content and 'href="?state=not_analysed"' in content


def test_a_reviewed_scan_shows_its_final_label_in_history(client, alice, bob):
    scan = make_done_scan(alice, result=FakeResult(label="notumor", probabilities={"glioma": 0.01, "meningioma": 0.01, "notumor": 0.975, "pituitary": 0.005}, confidence=0.975))
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    client.force_login(alice)
    row = _row_html(client.get("/scans/"), scan)
    assert "Glioma" in row and "reviewed by bob" in row
    assert "No tumour detected" not in row and "Needs review" not in row


def test_a_refused_scan_has_no_label_in_history(client, alice):
    scan = make_done_scan(alice, result=refused_result())
    client.force_login(alice)
    row = _row_html(client.get("/scans/"), scan)
    assert "Not analysed" in row
    assert not any(name in row for name in ("Meningioma", "Glioma", "No tumour", "Pituitary", "91 %"))


def _row_html(response, scan) -> str:
    content = response.content.decode()
    start = content.index(f'data-scan-id="{scan.id}"')
    return content[start:content.index("</tr>", start)]


@pytest.mark.parametrize(("scans", "pages"), [(19, 1), (20, 1), (21, 2)])
def test_it_pages_twenty_scans_at_a_time(client, alice, settings, scans, pages):
    settings.SCANS_UPLOADS_PER_HOUR = 100
    for _ in range(scans):
        make_scan(alice)
    client.force_login(alice)
    response = client.get("/scans/?state=queued")
    assert response.context["page"].paginator.num_pages == pages
    if pages == 2:
        assert "state=queued&amp;page=2" in response.content.decode()
        assert len(_rows(client.get("/scans/?state=queued&page=2"))) == 1


def test_it_rejects_post(client, alice):
    client.force_login(alice)
    assert client.post("/scans/").status_code == 405


def test_it_redirects_anonymous_users_to_login(client):
    response = client.get("/scans/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_invalid_filters_are_named_and_the_valid_ones_kept(client, alice):
    make_scan(alice, patient_reference="STUDY-1")
    make_scan(alice, patient_reference="OTHER-2")
    client.force_login(alice)
    response = client.get("/scans/?q=STUDY&label=unicorn&date_from=yesterday")
    assert len(_rows(response)) == 1  # the search still applies
    page = response.content.decode()
    assert 'data-testid="filter-errors"' in page and "Label" in page and "From" in page
