"""study_finish and the sweep: the summary is written once, when the last slice has finished, from the slices' answers."""

import pytest

from reviews.services import review_create
from scans.models import Scan, ScanStatus
from scans.services import scan_analyse, scan_fail, scan_retry
from scans.tests.factories import FakeClassifier, FakeResult
from studies.models import Study, StudySlice, StudyStatus
from studies.services import studies_sweep, study_finish, study_ingest
from studies.summary import StudyState
from studies.tests.factories import dicom_series, uploads

pytestmark = pytest.mark.django_db

NO_TUMOUR = {"glioma": 0.02, "meningioma": 0.03, "notumor": 0.93, "pituitary": 0.02}


def _result(label: str, probabilities: dict, **kwargs) -> FakeResult:
    return FakeResult(label=label, probabilities=probabilities, confidence=max(probabilities.values()), **kwargs)


def _glioma(p: float) -> FakeResult:
    rest = (1 - p) / 3
    return _result("glioma", {"glioma": p, "meningioma": rest, "notumor": rest, "pituitary": rest})


def _scans(study) -> list[Scan]:
    return [item.scan for item in StudySlice.objects.filter(series__study=study).select_related("scan").order_by("position")]


def _analyse(scan, result: FakeResult) -> None:
    assert scan_analyse(scan_id=scan.id, classifier_factory=lambda: FakeClassifier(result)) == "done"


@pytest.fixture
def study(alice):
    return study_ingest(owner=alice, files=uploads(dicom_series(4)))


def test_it_waits_for_the_last_slice_then_summarises_exactly_once(study):
    scans = _scans(study)
    for scan in scans[:-1]:
        _analyse(scan, _result("notumor", NO_TUMOUR))
        assert study_finish(study_id=study.id) == "waiting"
    _analyse(scans[-1], _glioma(0.8))
    assert study_finish(study_id=study.id) == "summarised"
    study.refresh_from_db()
    written = study.summarised_at
    assert study.status == StudyStatus.DONE and written is not None
    # Every later call (another slice's link, a duplicate message, the sweep) changes nothing.
    assert [study_finish(study_id=study.id) for _ in range(3)] == ["done", "done", "done"]
    assert studies_sweep() == {"summarised": 0, "reopened": 0}
    study.refresh_from_db()
    assert study.summarised_at == written


def test_the_summary_reports_state_counts_top_slices_and_model(study):
    scans = _scans(study)
    _analyse(scans[0], _result("notumor", NO_TUMOUR))
    _analyse(scans[1], _glioma(0.6))
    _analyse(scans[2], _glioma(0.95))
    _analyse(scans[3], _result("notumor", NO_TUMOUR))
    study_finish(study_id=study.id)
    summary = Study.objects.get(pk=study.id).summary
    assert summary["state"] == StudyState.TUMOUR_FINDING and summary["slices"] == 4
    assert summary["label_counts"] == {"glioma": 2, "meningioma": 0, "notumor": 2, "pituitary": 0}
    assert summary["state_counts"] == {"analysed": 4, "needs_review": 0, "not_analysed": 0, "failed": 0}
    top = summary["top_slices"]["glioma"]
    assert [(entry["position"], entry["scan_id"]) for entry in top] == [(2, str(scans[2].id)), (1, str(scans[1].id)), (0, str(scans[0].id))]
    assert top[0]["probability"] == pytest.approx(0.95) and top[0]["series"] == 1
    assert set(summary["top_slices"]) == {"glioma", "meningioma", "pituitary"}
    assert summary["model_versions"] == ["fake-1"]


def test_no_tumour_on_every_analysed_slice(study):
    scans = _scans(study)
    for scan in scans[:-1]:
        _analyse(scan, _result("notumor", NO_TUMOUR))
    scan_fail(scan_id=scans[-1].id, reason="The stored image is damaged.")
    study_finish(study_id=study.id)
    summary = Study.objects.get(pk=study.id).summary
    assert summary["state"] == StudyState.NO_TUMOUR and summary["state_counts"]["failed"] == 1


def test_a_slice_that_needs_review_makes_the_study_need_review(study):
    scans = _scans(study)
    for scan in scans[:-1]:
        _analyse(scan, _result("notumor", NO_TUMOUR))
    _analyse(scans[-1], _result("notumor", NO_TUMOUR, abstained=True, abstain_kind="no_tumour_unconfirmed",
                                abstain_reason="Not certain enough."))  # fmt: skip
    study_finish(study_id=study.id)
    assert Study.objects.get(pk=study.id).summary["state"] == StudyState.NEEDS_REVIEW


def test_nothing_analysed_when_every_slice_failed(study):
    for scan in _scans(study):
        scan_fail(scan_id=scan.id, reason="Interrupted.")
    assert study_finish(study_id=study.id) == "summarised"
    assert Study.objects.get(pk=study.id).summary["state"] == StudyState.NOT_ANALYSED


def test_the_summary_reads_the_answer_so_a_review_counts(study, bob):
    scans = _scans(study)
    for scan in scans:
        _analyse(scan, _result("notumor", NO_TUMOUR))
    scans[1].refresh_from_db()
    review_create(scan=scans[1], reviewer=bob, decision="overridden", override_label="meningioma", note="Left convexity.")
    study_finish(study_id=study.id)
    summary = Study.objects.get(pk=study.id).summary
    assert summary["state"] == StudyState.TUMOUR_FINDING
    assert summary["label_counts"]["meningioma"] == 1 and summary["label_counts"]["notumor"] == 3


def test_the_sweep_finishes_a_study_whose_links_never_came(study):
    for scan in _scans(study):
        _analyse(scan, _result("notumor", NO_TUMOUR))  # analysed, but no finish check ran
    assert Study.objects.get(pk=study.id).status == StudyStatus.ANALYSING
    assert studies_sweep() == {"summarised": 1, "reopened": 0}
    assert Study.objects.get(pk=study.id).status == StudyStatus.DONE


def test_a_slice_retried_after_the_summary_reopens_the_study(study):
    scans = _scans(study)
    for scan in scans[:-1]:
        _analyse(scan, _result("notumor", NO_TUMOUR))
    scan_fail(scan_id=scans[-1].id, reason="Interrupted.")
    study_finish(study_id=study.id)
    assert scan_retry(scan=scans[-1])
    assert studies_sweep()["reopened"] == 1
    study.refresh_from_db()
    assert study.status == StudyStatus.ANALYSING and study.summary is None
    _analyse(Scan.objects.get(pk=scans[-1].id), _glioma(0.9))
    assert study_finish(study_id=study.id) == "summarised"
    assert Study.objects.get(pk=study.id).summary["state"] == StudyState.TUMOUR_FINDING


def test_a_missing_study_is_nothing_to_finish():
    import uuid

    assert study_finish(study_id=uuid.uuid4()) == "missing"


def test_the_study_page_shows_the_summary(client, alice, study):
    scans = _scans(study)
    for scan in scans:
        _analyse(scan, _glioma(0.9) if scan == scans[2] else _result("notumor", NO_TUMOUR))
    study_finish(study_id=study.id)
    client.force_login(alice)
    page = client.get(f"/studies/{study.id}/").content.decode()
    assert "Tumour finding" in page and "Glioma 1" in page and "slice 3" in page and "90 %" in page
    assert "Tumour finding" in client.get("/studies/").content.decode()
    assert client.get(f"/studies/{study.id}/status/").json()["finished"] is True


def test_slices_refused_as_not_mri_carry_no_label_and_rank_nowhere(study):
    from scans.tests.factories import refused_result

    scans = _scans(study)
    for scan in scans[:-1]:
        _analyse(scan, refused_result())
    _analyse(scans[-1], _result("notumor", NO_TUMOUR))
    study_finish(study_id=study.id)
    summary = Study.objects.get(pk=study.id).summary
    assert summary["state"] == StudyState.NO_TUMOUR and summary["state_counts"]["not_analysed"] == 3
    assert summary["label_counts"]["meningioma"] == 0
    assert [entry["scan_id"] for entry in summary["top_slices"]["meningioma"]] == [str(scans[-1].id)]
