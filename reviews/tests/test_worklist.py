import pytest
from django.urls import reverse

from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db
URL = reverse("reviews:worklist")


def _no_tumour(p_no_tumour: float) -> FakeResult:
    rest = (1.0 - p_no_tumour) / 3
    return FakeResult(label="notumor", probabilities={"glioma": rest, "meningioma": rest, "notumor": p_no_tumour, "pituitary": rest},
                      confidence=p_no_tumour)  # fmt: skip


def test_plain_users_get_404(client, alice):
    client.force_login(alice)
    assert client.get(URL).status_code == 404
    assert client.get(reverse("reviews:agreement")).status_code == 404
    assert client.get(reverse("reviews:agreement_csv")).status_code == 404


def test_it_orders_by_risk_needs_review_then_tumours_then_no_tumour_by_tumour_probability_then_refusals(client, alice, charlie, bob):
    sure_no_tumour = make_done_scan(alice, result=_no_tumour(0.99), name="sure.png")
    refused = make_done_scan(alice, result=refused_result(), name="tree.png")
    doubtful_no_tumour = make_done_scan(alice, result=_no_tumour(0.90), name="doubtful.png")
    unsure = make_done_scan(charlie, result=unsure_result(), name="unsure.png")
    tumour = make_done_scan(alice, result=FakeResult(label="pituitary"), name="tumour.png")
    middling_no_tumour = make_done_scan(alice, result=_no_tumour(0.95), name="middling.png")
    reviewed = make_done_scan(alice, result=unsure_result(), name="reviewed.png")
    review_create(scan=reviewed, reviewer=bob, decision="overridden", override_label="meningioma")
    make_scan(alice, name="queued.png")
    client.force_login(bob)
    page = client.get(URL).context["page"]
    assert [scan.id for scan in page] == [
        unsure.id, tumour.id, doubtful_no_tumour.id, middling_no_tumour.id, sure_no_tumour.id, refused.id
    ]  # fmt: skip


def test_it_shows_file_name_patient_reference_and_counts_per_state(client, alice, bob):
    make_done_scan(alice, result=unsure_result(), name="axial_07.png", patient_reference="STUDY-7")
    make_done_scan(alice, result=FakeResult(label="glioma"))
    make_done_scan(alice, result=_no_tumour(0.99))
    make_done_scan(alice, result=_no_tumour(0.98))
    client.force_login(bob)
    response = client.get(URL)
    content = response.content.decode()
    assert "axial_07.png" in content and "STUDY-7" in content
    assert response.context["counts"] == [("Needs review", 1), ("Tumour findings", 1), ("No tumour", 2), ("Not analysed", 0)]


def test_it_filters_by_label_state_and_search(client, alice, bob):
    make_done_scan(alice, result=FakeResult(label="notumor"), name="a.png")
    wanted = make_done_scan(alice, result=FakeResult(label="meningioma"), name="b.png", patient_reference="STUDY-9")
    unsure = make_done_scan(alice, result=unsure_result())
    refused = make_done_scan(alice, result=refused_result())
    client.force_login(bob)
    assert [s.id for s in client.get(URL, {"label": "meningioma"}).context["page"]] == [wanted.id]
    assert [s.id for s in client.get(URL, {"q": "study-9"}).context["page"]] == [wanted.id]
    assert [s.id for s in client.get(URL, {"state": "needs_review"}).context["page"]] == [unsure.id]
    assert [s.id for s in client.get(URL, {"state": "not_analysed"}).context["page"]] == [refused.id]
    assert len(client.get(URL, {"state": "analysed"}).context["page"]) == 2


def test_only_reviewers_see_the_worklist_link(client, alice, bob):
    client.force_login(alice)
    assert "Review worklist" not in client.get(reverse("scans:history")).content.decode()
    client.force_login(bob)
    assert "Review worklist" in client.get(reverse("scans:history")).content.decode()
