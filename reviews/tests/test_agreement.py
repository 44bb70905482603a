"""The agreement page and its CSV: the final answer against the AI's, per class and per model version."""

import csv
import io

import pytest
from django.urls import reverse

from reviews.selectors import agreement_by_class, confusion_by_model_version
from reviews.services import review_create
from scans.tests.factories import FakeResult, make_done_scan, refused_result

pytestmark = pytest.mark.django_db
URL = reverse("reviews:agreement")


def test_agreement_counts_the_standing_review_per_ai_answer(alice, bob):
    first = make_done_scan(alice)  # AI says glioma
    second = make_done_scan(alice)
    review_create(scan=first, reviewer=bob, decision="overridden", override_label="meningioma")
    review_create(scan=first, reviewer=bob, decision="confirmed")  # supersedes the override
    review_create(scan=second, reviewer=bob, decision="overridden", override_label="notumor")
    rows = {row.ai_answer: row for row in agreement_by_class()}
    assert (rows["glioma"].reviewed, rows["glioma"].agreed, rows["glioma"].percent) == (2, 1, 50)
    assert rows["pituitary"].reviewed == 0 and rows["pituitary"].rate is None


def test_a_refusal_agreed_as_unusable_counts_as_agreement_on_not_analysed(alice, bob):
    refused = make_done_scan(alice, result=refused_result())
    review_create(scan=refused, reviewer=bob, decision="unusable", note="Chest CT.")
    wrongly_refused = make_done_scan(alice, result=refused_result())
    review_create(scan=wrongly_refused, reviewer=bob, decision="overridden", override_label="glioma")
    rows = {row.ai_answer: row for row in agreement_by_class()}
    assert (rows["not_analysed"].reviewed, rows["not_analysed"].agreed) == (2, 1)
    assert rows["meningioma"].reviewed == 0  # the refusal's argmax is no answer
    assert confusion_by_model_version() == {"fake-1": {("not_analysed", "not_analysed"): 1, ("not_analysed", "glioma"): 1}}


def test_the_confusion_table_is_per_model_version(alice, bob):
    old = make_done_scan(alice, result=FakeResult(label="notumor", model_version="1.0.0"))
    review_create(scan=old, reviewer=bob, decision="overridden", override_label="glioma")
    new = make_done_scan(alice, result=FakeResult(label="glioma", model_version="1.2.0"))
    review_create(scan=new, reviewer=bob, decision="confirmed")
    assert confusion_by_model_version() == {"1.0.0": {("notumor", "glioma"): 1}, "1.2.0": {("glioma", "glioma"): 1}}


def test_the_page_shows_a_number_on_every_bar_zero_percent_too(client, alice, bob):
    scan = make_done_scan(alice, result=FakeResult(label="notumor"))
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    client.force_login(bob)
    content = client.get(URL).content.decode()
    assert 'data-testid="agreement-percent">0 %</span>' in content
    assert 'data-testid="confusion-table" data-model-version="fake-1"' in content


def test_the_csv_lists_the_confusion_counts(client, alice, bob):
    scan = make_done_scan(alice, result=FakeResult(label="notumor"))
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    client.force_login(bob)
    response = client.get(reverse("reviews:agreement_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["model_version", "ai_answer", "final_answer", "scans"], ["fake-1", "notumor", "glioma", "1"]]
