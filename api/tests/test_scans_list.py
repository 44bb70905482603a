"""GET /api/v1/scans/: the caller's own scans, paginated and filtered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.tests.conftest import assert_json_error
from scans.models import Scan
from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db
URL = "/api/v1/scans/"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_it_lists_only_the_callers_scans(alice_api, bob_api, charlie_api, alice, bob):
    mine = make_scan(alice, patient_reference="P-1")
    make_scan(bob)
    response = alice_api.get(URL)
    assert ids(response) == [str(mine.id)]
    assert response["Cache-Control"] == "private, no-store"
    item = response.json()["results"][0]
    assert item["patient_ref"] == "P-1" and item["status"] == "queued" and item["label"] is None
    assert item["url"] == f"http://testserver/api/v1/scans/{mine.id}/"
    # A reviewer's list is their own scans too: others' are reached by id.
    assert str(mine.id) not in ids(bob_api.get(URL))
    assert ids(charlie_api.get(URL)) == []


def test_it_paginates(alice_api, alice):
    for _ in range(3):
        make_scan(alice)
    body = alice_api.get(URL, {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert len(alice_api.get(URL, {"page_size": 2, "page": 2}).json()["results"]) == 1
    assert_json_error(alice_api.get(URL, {"page": 9}), 404)


@pytest.mark.parametrize("page", ["", "0", "two", "-1"])
def test_it_refuses_a_page_that_is_not_a_whole_number(alice_api, page):
    assert_json_error(alice_api.get(URL, {"page": page}), 400)


def test_it_filters(alice_api, alice):
    glioma = make_done_scan(alice, name="one.png")
    unsure = make_done_scan(alice, result=unsure_result(label="pituitary"), patient_reference="STUDY-9")
    queued = make_scan(alice)
    Scan.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate().isoformat()
    assert ids(alice_api.get(URL, {"status": "done"})) == [str(unsure.id), str(glioma.id)]
    assert ids(alice_api.get(URL, {"label": "glioma"})) == [str(glioma.id)]
    assert ids(alice_api.get(URL, {"label": "pituitary"})) == []  # a doubt is no final label
    assert ids(alice_api.get(URL, {"ai_label": "pituitary"})) == [str(unsure.id)]
    assert ids(alice_api.get(URL, {"state": "needs_review"})) == [str(unsure.id)]
    assert ids(alice_api.get(URL, {"state": "queued"})) == [str(queued.id)]
    assert ids(alice_api.get(URL, {"abstained": "true"})) == [str(unsure.id)]
    assert ids(alice_api.get(URL, {"abstained": "false"})) == [str(glioma.id)]
    assert ids(alice_api.get(URL, {"created_before": (timezone.localdate() - timedelta(days=5)).isoformat()})) == [str(queued.id)]
    assert set(ids(alice_api.get(URL, {"created_after": today}))) == {str(glioma.id), str(unsure.id)}
    assert ids(alice_api.get(URL, {"q": "study-9"})) == [str(unsure.id)]
    assert ids(alice_api.get(URL, {"q": "one"})) == [str(glioma.id)]


@pytest.mark.parametrize("params", [{"status": "bogus"}, {"label": "tumour"}, {"state": "fine"}, {"created_after": "yesterday"}, {"abstained": "maybe"}])
def test_it_refuses_bad_filters(alice_api, params):
    body = assert_json_error(alice_api.get(URL, params), 400)
    assert set(body["fields"]) == set(params)


def test_a_reviewed_scan_is_listed_and_filtered_by_its_final_label(alice_api, alice, bob):
    scan = make_done_scan(alice, result=FakeResult(label="notumor"))
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    refused = make_done_scan(alice, result=refused_result())
    assert ids(alice_api.get(URL, {"label": "glioma"})) == [str(scan.id)]
    assert ids(alice_api.get(URL, {"label": "notumor"})) == []
    assert ids(alice_api.get(URL, {"state": "not_analysed"})) == [str(refused.id)]
    items = {item["id"]: item for item in alice_api.get(URL).json()["results"]}
    assert items[str(scan.id)]["final"]["label"] == "glioma" and items[str(scan.id)]["final"]["source"] == "reviewer"
    assert items[str(scan.id)]["label"] == "notumor"  # the AI's, as recorded
    assert items[str(refused.id)]["final"]["label"] is None and items[str(refused.id)]["final"]["state"] == "not_analysed"
