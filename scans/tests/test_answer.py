"""scans.answer: the one notion of a scan's answer (final label, source, state) every page reads."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.template import Context, Template
from django.utils.html import escape

from reviews.services import review_create
from scans.answer import answer_of
from scans.services import scan_fail
from scans.tests.factories import FakeResult, make_done_scan, make_scan, refused_result, unsure_result

pytestmark = pytest.mark.django_db


def test_an_unreviewed_confident_result_is_the_ais_analysed_answer(alice):
    answer = answer_of(make_done_scan(alice))
    assert (answer.state, answer.final_label, answer.source, answer.reviewed) == ("analysed", "glioma", "ai", False)
    assert answer.headline == "Glioma" and answer.byline == "AI suggestion, 70 %; not reviewed by a person yet"


def test_the_latest_review_gives_the_final_label_and_the_ai_result_stays_as_recorded(alice, bob):
    scan = make_done_scan(alice, result=FakeResult(label="notumor", confidence=0.975))
    review_create(scan=scan, reviewer=alice, decision="confirmed")
    review_create(scan=scan, reviewer=bob, decision="overridden", override_label="glioma")
    answer = answer_of(scan)
    assert (answer.state, answer.final_label, answer.source, answer.reviewer) == ("analysed", "glioma", "reviewer", "bob")
    assert answer.byline.startswith("reviewed by bob, ") and answer.byline.endswith("; the AI suggested No tumour detected, 98 %")
    assert scan.predictions.get().label == "notumor"


def test_a_doubt_needs_review_until_a_person_reviews_it(alice, bob):
    scan = make_done_scan(alice, result=unsure_result())
    answer = answer_of(scan)
    assert (answer.state, answer.final_label) == ("needs_review", "glioma")
    assert answer.reason == "The model is unsure: glioma 51 %, meningioma 40 %. A person should read this slice."
    review_create(scan=scan, reviewer=bob, decision="confirmed")
    assert answer_of(scan).state == "analysed"


def test_a_refusal_is_not_analysed_and_carries_no_label(alice):
    answer = answer_of(make_done_scan(alice, result=refused_result()))
    assert (answer.state, answer.final_label, answer.ai_label, answer.ai_confidence) == ("not_analysed", None, None, None)
    assert answer.headline == "Not analysed — this does not look like a brain MRI"
    assert answer.reason == "This image does not look like a brain MRI slice, so the model did not analyse it."
    assert "eningioma" not in answer.headline + answer.byline + answer.reason + answer.short


def test_a_reviewer_can_say_not_a_brain_mri(alice, bob):
    scan = make_done_scan(alice)
    review_create(scan=scan, reviewer=bob, decision="unusable", note="A fundus photograph.")
    answer = answer_of(scan)
    assert (answer.state, answer.final_label, answer.source) == ("not_analysed", None, "reviewer")
    assert answer.reason == "A fundus photograph."


def test_unfinished_and_failed_scans_have_no_label(alice):
    queued = make_scan(alice)
    failed = make_scan(alice)
    scan_fail(scan_id=failed.id, reason="The file is damaged.")
    assert (answer_of(queued).state, answer_of(queued).final_label, answer_of(queued).source) == ("queued", None, None)
    assert (answer_of(failed).state, answer_of(failed).reason) == ("failed", "The file is damaged.")


@pytest.mark.parametrize(("value", "shown"), [(0.996, "> 99 %"), (0.004, "< 1 %"), (0.512, "51 %"), (1.0, "> 99 %"), (0.0, "< 1 %")])
def test_templates_format_every_probability_with_ml_wording(value, shown):
    assert Template("{% load probability %}{{ p|probability }}").render(Context({"p": value})) == escape(shown)


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_gives_old_abstentions_a_kind_and_a_plain_reason(django_user_model):
    executor = MigrationExecutor(connection)
    before = [("scans", "0004_prediction_abstain_kind")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    owner = old.get_model("auth", "User").objects.create(username="old-owner")
    Scan, Prediction = old.get_model("scans", "Scan"), old.get_model("scans", "Prediction")
    probabilities = {"glioma": 0.51, "meningioma": 0.40, "notumor": 0.05, "pituitary": 0.04}
    reasons = {
        "unsure": "Low confidence (0.51 < 0.94).",
        "second": "Second reader: the first reader saw no tumour (0.97), the second reader finds glioma (0.80).",
        "refused": "This does not look like a brain MRI slice (feature distance 29.2 > 24.4).",
        "plain": "",
    }
    for name, reason in reasons.items():
        scan = Scan.objects.create(owner=owner, original_name=name, sha256="0" * 64, size_bytes=1, format="png", width=1, height=1, status="done")
        Prediction.objects.create(scan=scan, model_version="1.0.0", label="glioma", probabilities=probabilities, confidence=0.51,
                                  abstained=bool(reason), abstain_reason=reason)  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate([("scans", "0005_prediction_abstain_kind_from_reason")])
    new = executor.loader.project_state([("scans", "0005_prediction_abstain_kind_from_reason")]).apps
    rows = {p.scan.original_name: p for p in new.get_model("scans", "Prediction").objects.select_related("scan")}
    assert [rows[name].abstain_kind for name in reasons] == ["unsure", "second_reader", "not_mri", ""]
    assert rows["unsure"].abstain_reason == "The model is unsure: glioma 51 %, meningioma 40 %. A person should read this slice."
    assert rows["unsure"].technical_detail == reasons["unsure"]
    assert rows["second"].abstain_reason.startswith("Another reading found signs of a tumour (glioma)")
    assert rows["refused"].abstain_reason == "This image does not look like a brain MRI slice, so the model did not analyse it."
    assert rows["refused"].technical_detail == reasons["refused"]
    assert (rows["plain"].abstain_reason, rows["plain"].technical_detail) == ("", "")
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
