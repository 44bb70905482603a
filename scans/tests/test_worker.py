"""The real thing: a `celery worker` process on the configured broker and the test database.

Eager mode is not a test of the real thing: these tests publish through the broker, let a
separate worker process load the model and write to the database, and kill it mid-task.
"""

import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from conftest import DATA_DIR, need_data, need_service
from neuroscan.testing import WorkerProcess
from scans import services
from scans.models import Prediction, Scan, ScanStatus
from scans.tests.real_stack import RedisServer, model_available, redis_server_available, use_broker
from scans.tests.factories import upload_file

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRAINING = DATA_DIR / "brain-mri" / "Training"
WAIT_SECONDS = 120  # a fresh worker imports TensorFlow and loads the model on its first task


@pytest.fixture(autouse=True)
def _trained_model():
    need_service("the trained model in ml/weights", model_available())


def mri_slice(name: str = "glioma") -> Path:
    need_data(TRAINING)
    return sorted((TRAINING / name).glob("*.jpg"))[0]


def upload(client, path: Path) -> Scan:
    response = client.post("/scans/upload/", {"files": [upload_file(path.read_bytes(), path.name, "image/jpeg")]})
    assert response.status_code == 302, response.content[:500]
    return Scan.objects.get(pk=response["Location"].strip("/").split("/")[-1])


def wait_for(scan: Scan, statuses: set[str], worker: WorkerProcess, timeout: float = WAIT_SECONDS, poll: float = 0.25) -> Scan:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scan.refresh_from_db()
        if scan.status in statuses:
            return scan
        time.sleep(poll)
    raise AssertionError(f"scan stayed {scan.status} for {timeout}s; worker output:\n{worker.output[-4000:]}")


def test_a_worker_loads_the_model_at_start_and_starts_quietly(alice, worker_process):
    from scans.models import AnalyserProcess

    deadline = time.monotonic() + WAIT_SECONDS
    while not AnalyserProcess.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert AnalyserProcess.objects.exists(), worker_process.output[-4000:]
    # What buried the useful lines of a start-up log (issue 19): none of it is printed now.
    for noise in ("SecurityWarning", "No hostname was supplied", "oneDNN", "cpu_feature_guard", "AXES: BEGIN"):
        assert noise not in worker_process.output, noise


def test_an_upload_is_analysed_by_a_real_worker(client, alice, worker_process):
    client.force_login(alice)
    scan = upload(client, mri_slice())
    scan = wait_for(scan, {ScanStatus.DONE, ScanStatus.FAILED}, worker_process)
    assert scan.status == ScanStatus.DONE, scan.failure_reason
    prediction = Prediction.objects.get(scan=scan)
    assert prediction.label in ("glioma", "meningioma", "notumor", "pituitary")
    assert abs(sum(prediction.probabilities.values()) - 1) < 1e-3
    assert default_storage.exists(prediction.heatmap.name)
    assert scan.attempts == 1 and str(scan.id) in worker_process.output
    status = client.get(f"/scans/{scan.id}/status/").json()
    assert status["status"] == "done" and status["finished"] is True
    assert client.get(f"/scans/{scan.id}/heatmap/").status_code == 200


def test_a_worker_killed_mid_task_does_not_lose_the_scan(client, alice, transactional_db, settings):
    client.force_login(alice)
    # Loading the model on the first task rather than at start gives the test seconds to kill it in.
    first = WorkerProcess(extra_env={"SCANS_LOAD_MODEL_AT_START": "0"}).start()
    try:
        scan = upload(client, mri_slice("meningioma"))
        # The first task of this worker spends seconds loading the model: kill it then.
        wait_for(scan, {ScanStatus.PROCESSING}, first, poll=0.02)
        first.kill()
    finally:
        first.stop()
    scan.refresh_from_db()
    assert scan.status == ScanStatus.PROCESSING and not Prediction.objects.filter(scan=scan).exists()

    with WorkerProcess() as second:
        # What beat does every minute on the real stack, with the deadline already passed.
        settings.SCANS_STUCK_AFTER_SECONDS = 0
        assert services.scans_sweep()["sent"] == 1
        scan = wait_for(scan, {ScanStatus.DONE, ScanStatus.FAILED}, second)
    assert scan.status == ScanStatus.DONE, scan.failure_reason
    assert Prediction.objects.filter(scan=scan).count() == 1
    assert scan.attempts == 2


def test_an_upload_survives_a_broker_outage_and_the_sweep_finishes_it(client, alice, transactional_db, tmp_path):
    # A private redis-server, so that stopping it never disturbs a shared broker (CI's Redis).
    need_service("redis-server", redis_server_available())
    client.force_login(alice)
    redis = RedisServer(tmp_path / "redis").start()
    worker = WorkerProcess(extra_env={"CELERY_BROKER_URL": redis.url, "CELERY_RESULT_BACKEND": redis.url}).start()
    try:
        with use_broker(redis.url):
            redis.stop()
            started = time.monotonic()
            scan = upload(client, mri_slice("pituitary"))
            assert time.monotonic() - started < 5, "the upload waited for the dead broker"
            scan.refresh_from_db()
            assert scan.status == ScanStatus.QUEUED and scan.enqueued_at is None
            assert services.scans_sweep()["unsent"] == 1  # still down: stays queued, no error

            redis.start()
            assert services.scans_sweep()["sent"] == 1
            scan = wait_for(scan, {ScanStatus.DONE, ScanStatus.FAILED}, worker)
        assert scan.status == ScanStatus.DONE, scan.failure_reason
        assert Prediction.objects.filter(scan=scan).count() == 1
    finally:
        worker.stop()
        redis.stop()
