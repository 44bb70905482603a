import pytest
from django.urls import reverse

from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan

pytestmark = pytest.mark.django_db
URL = reverse("reviews:worklist")


def test_plain_users_get_404(client, alice):
    client.force_login(alice)
    assert client.get(URL).status_code == 404
    assert client.get(reverse("reviews:agreement")).status_code == 404


def test_it_lists_unreviewed_finished_scans_of_all_users_needs_review_first(client, alice, charlie, bob):
    no_tumour = make_done_scan(alice, result=FakeResult(label="notumor"), name="plain.png")
    abstained = make_done_scan(charlie, result=FakeResult(abstained=True, abstain_reason="Unsure."), name="unsure.png")
    tumour = make_done_scan(alice, result=FakeResult(label="pituitary"), name="tumour.png")
    reviewed = make_done_scan(alice, name="reviewed.png")
    review_create(scan=reviewed, reviewer=bob, decision="confirmed")
    make_scan(alice, name="queued.png")
    client.force_login(bob)
    page = client.get(URL).context["page"]
    assert [scan.id for scan in page] == [abstained.id, tumour.id, no_tumour.id]


def test_it_filters_like_history(client, alice, bob):
    make_done_scan(alice, result=FakeResult(label="notumor"), name="a.png")
    wanted = make_done_scan(alice, result=FakeResult(label="meningioma"), name="b.png", patient_reference="STUDY-9")
    client.force_login(bob)
    assert [s.id for s in client.get(URL, {"label": "meningioma"}).context["page"]] == [wanted.id]
    assert [s.id for s in client.get(URL, {"q": "study-9"}).context["page"]] == [wanted.id]


def test_agreement_counts_the_standing_review_per_class(client, alice, bob):
    first = make_done_scan(alice)  # AI says glioma
    second = make_done_scan(alice)
    review_create(scan=first, reviewer=bob, decision="overridden", override_label="meningioma")
    review_create(scan=first, reviewer=bob, decision="confirmed")  # supersedes the override
    review_create(scan=second, reviewer=bob, decision="overridden", override_label="notumor")
    client.force_login(bob)
    rows = dict(client.get(reverse("reviews:agreement")).context["rows"])
    assert (rows["Glioma"].reviewed, rows["Glioma"].confirmed) == (2, 1)
    assert rows["Glioma"].rate == 0.5
    assert rows["Pituitary tumour"].reviewed == 0


def test_only_reviewers_see_the_worklist_link(client, alice, bob):
    client.force_login(alice)
    assert "Review worklist" not in client.get(reverse("scans:history")).content.decode()
    client.force_login(bob)
    assert "Review worklist" in client.get(reverse("scans:history")).content.decode()
