"""The real thing: real `celery worker` processes analyse every slice of an uploaded series; the summary is written once.

Eager mode is not a test of the real thing: the upload publishes through the broker, separate
worker processes load the model, analyse the slices in parallel and follow each with the study's
finish check (in the same task); one test SIGKILLs a worker mid-study.
"""

import time

import pytest

from conftest import DATA_DIR, need_data, need_service
from neuroscan.testing import WorkerProcess
from scans import services as scan_services
from scans.models import Prediction, Scan, ScanStatus
from scans.tests.real_stack import model_available
from studies.models import Study, StudyStatus
from studies.services import studies_sweep
from studies.tests.factories import dicom_series_from_pictures, uploads

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRAINING = DATA_DIR / "brain-mri" / "Training"
WAIT_SECONDS = 180  # fresh workers import TensorFlow and load the model on their first task
SLICES = 6


@pytest.fixture(autouse=True)
def _trained_model():
    need_service("the trained model in ml/weights", model_available())


def real_series(count: int = SLICES):
    """A DICOM series (with planted PHI) whose slices are real MRI pictures: three tumour classes and no tumour."""
    need_data(TRAINING)
    paths = []
    for name in ("glioma", "notumor", "meningioma", "pituitary"):
        paths += sorted((TRAINING / name).glob("*.jpg"))[:2]
    return dicom_series_from_pictures(paths[:count])


def upload(client) -> Study:
    response = client.post("/studies/upload/", {"files": uploads(real_series())})
    assert response.status_code == 302, response.content[:500]
    return Study.objects.get(pk=response["Location"].strip("/").split("/")[-1])


def slice_scans(study: Study):
    return Scan.objects.filter(study_slice__series__study=study)


def wait_until(condition, workers, timeout: float = WAIT_SECONDS, poll: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    output = "\n".join(worker.output[-3000:] for worker in workers)
    raise AssertionError(f"not reached within {timeout}s; worker output:\n{output}")


def summarised_lines(study: Study, *workers) -> int:
    return sum(worker.output.count(f"Study {study.id} summarised") for worker in workers)


def test_every_slice_is_analysed_in_parallel_and_the_summary_written_once(client, alice, transactional_db):
    client.force_login(alice)
    with WorkerProcess(concurrency=2) as worker:
        study = upload(client)
        wait_until(lambda: Study.objects.get(pk=study.id).status == StudyStatus.DONE, [worker])
        time.sleep(2)  # the last finish checks of the other slices may still be running: they must change nothing
    study.refresh_from_db()
    scans = slice_scans(study)
    assert scans.count() == SLICES and not scans.exclude(status=ScanStatus.DONE).exists()
    assert Prediction.objects.filter(scan__in=scans).count() == SLICES
    assert study.summary["slices"] == SLICES and study.summary["state"] in ("tumour_finding", "needs_review", "no_tumour", "not_analysed")
    assert sum(study.summary["state_counts"].values()) == SLICES and study.summary["model_versions"]
    # Every slice's task ran the finish check after its analysis; exactly one of them wrote the summary.
    assert worker.output.count("studies.analyse_slice") >= SLICES and "studies.finish" not in worker.output
    assert summarised_lines(study, worker) == 1
    status = client.get(f"/studies/{study.id}/status/").json()
    assert status["finished"] and status["progress"] == {"total": SLICES, "finished": SLICES, "failed": 0}
    assert all(item["tumour_probability"] is not None for item in status["slices"])


def test_a_worker_killed_mid_study_loses_nothing_and_counts_nothing_twice(client, alice, transactional_db, settings, caplog):
    caplog.set_level("INFO", logger="studies.services")
    client.force_login(alice)
    first = WorkerProcess(concurrency=2).start()
    try:
        study = upload(client)
        # The first tasks of a fresh worker spend seconds loading the model: kill it then.
        wait_until(lambda: slice_scans(study).filter(status=ScanStatus.PROCESSING).exists(), [first], poll=0.02)
        first.kill()
    finally:
        first.stop()
    study.refresh_from_db()
    assert study.status == StudyStatus.ANALYSING

    with WorkerProcess(concurrency=2) as second:
        # What beat does every minute on the real stack, with the deadline already passed.
        settings.SCANS_STUCK_AFTER_SECONDS = 0
        assert scan_services.scans_sweep()["sent"] >= 1
        wait_until(lambda: not slice_scans(study).exclude(status__in=[ScanStatus.DONE, ScanStatus.FAILED]).exists(), [second])
        wait_until(lambda: studies_sweep() is not None and Study.objects.get(pk=study.id).status == StudyStatus.DONE, [second])
        time.sleep(2)
    study.refresh_from_db()
    scans = slice_scans(study)
    assert not scans.exclude(status=ScanStatus.DONE).exists(), list(scans.values_list("status", "failure_reason"))
    for scan in scans:
        assert Prediction.objects.filter(scan=scan).count() == 1
    assert study.summary["slices"] == SLICES and sum(study.summary["state_counts"].values()) == SLICES
    # Written once: by a slice's finish check in a worker, or by the sweep in this process.
    here = sum(f"Study {study.id} summarised" in record.getMessage() for record in caplog.records)
    assert summarised_lines(study, first, second) + here == 1
