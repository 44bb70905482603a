"""scan_analyse (the worker's service) and the task wrapper, without a broker: fakes stand in for the model."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError

from scans import services
from scans.models import Prediction, Scan, ScanStatus
from scans.tasks import analyse_scan
from scans.tests.conftest import media_files
from scans.tests.factories import FakeClassifier, FakeResult, make_scan, refused_result

pytestmark = pytest.mark.django_db


def _analyse(scan, classifier):
    return services.scan_analyse(scan_id=scan.id, classifier_factory=lambda: classifier)


def test_it_stores_a_prediction_and_marks_the_scan_done(alice):
    scan = make_scan(alice)
    classifier = FakeClassifier()
    assert _analyse(scan, classifier) == "done"
    scan.refresh_from_db()
    assert scan.status == ScanStatus.DONE and scan.attempts == 1
    assert scan.processing_started_at <= scan.finished_at
    prediction = scan.predictions.get()
    assert (prediction.label, prediction.model_version, prediction.confidence) == ("glioma", "fake-1", 0.7)
    assert prediction.probabilities["glioma"] == 0.7 and prediction.timings_ms == {"total": 12.0}
    assert default_storage.open(prediction.heatmap.name).read().startswith(b"\x89PNG")


def test_a_refusal_is_stored_without_a_heatmap(alice):
    scan = make_scan(alice)
    uploaded = media_files()
    assert _analyse(scan, FakeClassifier(refused_result())) == "done"
    prediction = scan.predictions.get()
    assert prediction.refused_as_not_mri and not prediction.has_heatmap
    assert (prediction.heatmap.name, prediction.heat.name) == ("", "")
    assert media_files() == uploaded  # no overlay or heat file was written for it


def test_the_model_reads_the_stored_display_image(alice):
    scan = make_scan(alice)
    seen = []

    class Spy(FakeClassifier):
        def analyse(self, image):
            seen.append(image)
            return super().analyse(image)

    _analyse(scan, Spy())
    assert seen[0].shape == (80, 96) and str(seen[0].dtype) == "uint8"


def test_a_second_run_changes_nothing(alice):
    scan = make_scan(alice)
    _analyse(scan, FakeClassifier())
    before = (list(Prediction.objects.values()), Scan.objects.values().get(), media_files())
    classifier = FakeClassifier()
    assert _analyse(scan, classifier) == "skipped"
    assert classifier.calls == 0
    assert (list(Prediction.objects.values()), Scan.objects.values().get(), media_files()) == before


def test_the_database_refuses_a_second_prediction_for_the_same_model(alice):
    from django.db import IntegrityError, transaction

    scan = make_scan(alice)
    _analyse(scan, FakeClassifier())
    first = Prediction.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Prediction.objects.create(scan=scan, model_version=first.model_version, label="notumor", probabilities={},
                                  confidence=0.5, heatmap=first.heatmap.name)  # fmt: skip
    Prediction.objects.create(scan=scan, model_version="fake-2", label="notumor", probabilities={}, confidence=0.5,
                              heatmap=first.heatmap.name)  # fmt: skip  another model version may answer too


def test_a_run_after_a_crash_between_prediction_and_done_only_marks_it_done(alice):
    scan = make_scan(alice)
    _analyse(scan, FakeClassifier())
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.PROCESSING)  # died before saying "done"
    classifier = FakeClassifier()
    assert _analyse(scan, classifier) == "done"
    assert classifier.calls == 0 and Prediction.objects.count() == 1
    assert Scan.objects.get(pk=scan.pk).status == ScanStatus.DONE


def test_a_lost_race_keeps_one_prediction_and_no_stray_heatmap(alice, monkeypatch):
    scan = make_scan(alice)
    _analyse(scan, FakeClassifier())
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.PROCESSING)
    files_before = media_files()
    # The other run's prediction appears after this run checked for it.
    monkeypatch.setattr(FakeClassifier, "model_version", None)
    assert _analyse(scan, FakeClassifier()) == "done"
    assert Prediction.objects.count() == 1 and media_files() == files_before


def test_a_scan_that_runs_again_with_a_worker_killed_mid_run_counts_attempts(alice):
    scan = make_scan(alice)
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.PROCESSING, attempts=1)
    _analyse(scan, FakeClassifier())
    scan.refresh_from_db()
    assert scan.status == ScanStatus.DONE and scan.attempts == 2


def test_an_image_the_model_refuses_fails_with_its_reason(alice):
    scan = make_scan(alice)
    assert _analyse(scan, FakeClassifier(error=ValueError("the image is too small (10x10)."))) == "failed"
    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED and "too small" in scan.failure_reason
    assert scan.finished_at is not None and not Prediction.objects.exists()


def test_a_damaged_stored_image_fails_without_retrying(alice, monkeypatch):
    monkeypatch.setattr(services, "_default_classifier", FakeClassifier)
    scan = make_scan(alice)
    default_storage.delete(scan.display.name)
    default_storage.save(scan.display.name, ContentFile(b"\x89PNG\r\n\x1a\n broken"))
    analyse_scan.apply(args=[str(scan.id)])  # in-process, to see the wrapper's choice
    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED and "damaged" in scan.failure_reason
    assert scan.attempts == 1  # no retry loop


def test_a_missing_stored_image_fails_with_a_reason(alice):
    scan = make_scan(alice)
    default_storage.delete(scan.display.name)
    assert _analyse(scan, FakeClassifier()) == "failed"
    assert "missing" in Scan.objects.get(pk=scan.pk).failure_reason


def test_a_failed_scan_is_left_alone_by_a_late_duplicate(alice):
    scan = make_scan(alice)
    services.scan_fail(scan_id=scan.id, reason="Damaged.")
    classifier = FakeClassifier()
    assert _analyse(scan, classifier) == "skipped" and classifier.calls == 0


def test_a_deleted_scan_is_skipped(alice):
    import uuid

    assert services.scan_analyse(scan_id=uuid.uuid4(), classifier_factory=FakeClassifier) == "skipped"


def test_abstention_is_stored_with_its_reason(alice):
    scan = make_scan(alice)
    _analyse(scan, FakeClassifier(FakeResult(abstained=True, abstain_reason="Low confidence (0.41 < 0.60).")))
    prediction = Prediction.objects.get()
    assert prediction.abstained and prediction.abstain_reason == "Low confidence (0.41 < 0.60)."


# --- The task wrapper: retries for transient errors, bounded -----------------------------------


def test_the_task_retries_a_transient_database_error(alice, monkeypatch, settings):
    scan = make_scan(alice)
    calls = []

    def flaky(*, scan_id):
        calls.append(scan_id)
        if len(calls) < 3:
            raise OperationalError("connection reset")
        return "done"

    monkeypatch.setattr(services, "scan_analyse", flaky)
    settings.SCANS_TASK_RETRY_BACKOFF_SECONDS = 1
    result = analyse_scan.apply(args=[str(scan.id)])  # eager apply runs the retries in place
    assert result.get() == "done" and len(calls) == 3


def test_the_task_gives_up_after_the_retry_limit_and_fails_the_scan(alice, monkeypatch, settings):
    scan = make_scan(alice)
    calls = []

    def broken(*, scan_id):
        calls.append(scan_id)
        raise OSError("storage unreachable")

    monkeypatch.setattr(services, "scan_analyse", broken)
    settings.SCANS_TASK_MAX_RETRIES = 2
    analyse_scan.apply(args=[str(scan.id)])
    assert len(calls) == 3  # the first try and two retries
    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED and "temporary problem" in scan.failure_reason


def test_the_task_is_acknowledged_late_and_takes_an_id_only():
    assert analyse_scan.acks_late is True and analyse_scan.reject_on_worker_lost is True
    assert analyse_scan.name == "scans.analyse"


@pytest.mark.django_db(transaction=True)
def test_the_migration_deletes_the_heat_maps_old_refusals_kept():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("scans", "0008_prediction_heatmap_blank_for_refusals")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    owner = old.get_model("auth", "User").objects.create(username="old-owner")
    Scan, Prediction = old.get_model("scans", "Scan"), old.get_model("scans", "Prediction")
    files = {}
    for name, kind in (("refused", "not_mri"), ("unsure", "unsure")):
        scan = Scan.objects.create(owner=owner, original_name=name, sha256="0" * 64, size_bytes=1, format="png", width=1, height=1, status="done")
        files[name] = [default_storage.save(f"scans/old/{name}-{part}.png", ContentFile(b"\x89PNG")) for part in ("heatmap", "heat")]
        Prediction.objects.create(scan=scan, model_version="1.0.0", label="glioma", probabilities={}, confidence=0.5, abstained=True,
                                  abstain_kind=kind, heatmap=files[name][0], heat=files[name][1])  # fmt: skip
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        rows = {p.scan.original_name: p for p in Prediction.objects.select_related("scan")}
        assert (rows["refused"].heatmap.name, rows["refused"].heat.name) == ("", "")
        assert not any(default_storage.exists(name) for name in files["refused"])
        assert (rows["unsure"].heatmap.name, rows["unsure"].heat.name) == tuple(files["unsure"])  # a finding keeps its map
        assert all(default_storage.exists(name) for name in files["unsure"])
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
