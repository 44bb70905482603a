"""A study whose slices were analysed (by the fake classifier, heatmaps and all) and summarised: what reviews and reports need."""

from scans.models import Scan
from scans.services import scan_analyse
from scans.tests.factories import FakeClassifier, FakeResult
from studies.models import Study, StudySlice
from studies.services import study_finish, study_ingest
from studies.tests.factories import dicom_series, uploads

NO_TUMOUR = {"glioma": 0.02, "meningioma": 0.03, "notumor": 0.93, "pituitary": 0.02}


def result(label: str, probabilities: dict, **kwargs) -> FakeResult:
    return FakeResult(label=label, probabilities=probabilities, confidence=max(probabilities.values()), **kwargs)


def no_tumour() -> FakeResult:
    return result("notumor", NO_TUMOUR)


def glioma(p: float) -> FakeResult:
    rest = (1 - p) / 3
    return result("glioma", {"glioma": p, "meningioma": rest, "notumor": rest, "pituitary": rest})


def slice_scans(study: Study) -> list[Scan]:
    items = StudySlice.objects.filter(series__study=study).select_related("scan").order_by("series__number", "position")
    return [item.scan for item in items]


def summarised_study(owner, results: list[FakeResult], **ingest) -> Study:
    """A DICOM series of len(results) slices, slice i analysed with results[i], then summarised."""
    study = study_ingest(owner=owner, files=uploads(dicom_series(len(results))), **ingest)
    for scan, outcome in zip(slice_scans(study), results):
        assert scan_analyse(scan_id=scan.id, classifier_factory=lambda outcome=outcome: FakeClassifier(outcome)) == "done"
    assert study_finish(study_id=study.id) == "summarised"
    return Study.objects.get(pk=study.id)
