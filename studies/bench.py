"""`python -m studies.bench`: a series of N slices from upload to summary with W workers, as JSON.

Runs for real in a scratch folder (SQLite, the filesystem broker, `celery worker` processes of
concurrency 1 each). It waits until every worker has loaded the model, then uploads a DICOM
series built from training slices (made-up slices without the data set) through study_ingest,
and measures: the upload itself (decode, de-identify, store), and from the commit to the summary
(the tasks are sent on commit: sending them counts, and is reported as publish_seconds). The
analysis-bound ideal is sum(per-slice analysis time) / workers;
`efficiency` = ideal / measured (target >= 0.9: queue, database and storage overhead stay small).

    python -m studies.bench [--slices 150] [--workers 2]
"""

import argparse
import itertools
import os
import re
import statistics
import sys
import time
from pathlib import Path

from neuroscan.benchmarking import run_in_scratch, wait

TARGET_EFFICIENCY = 0.9
_TASK_SUCCEEDED = re.compile(r"Task studies\.analyse_slice\[[^\]]+\] succeeded in ([0-9.]+)s")


def _pictures(count: int, folder: Path) -> tuple[list[Path], str]:
    from conftest import DATA_DIR

    training = DATA_DIR / "brain-mri" / "Training"
    if training.is_dir():
        files = [path for name in sorted(training.iterdir()) for path in sorted(name.glob("*.jpg"))[:count]]
        return list(itertools.islice(itertools.cycle(files[:: max(1, len(files) // count)]), count)), "training slices"
    from PIL import Image

    from scans.tests.factories import slice_pixels

    paths = []
    for n in range(count):
        path = folder / f"synthetic-{n}.png"
        Image.fromarray(slice_pixels(256, 256)).save(path)
        paths.append(path)
    return paths, "synthetic slices"


def bench(slices: int, workers: int, folder: Path) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from neuroscan.testing import WorkerProcess
    from scans.models import AnalyserProcess, Scan
    from studies.models import Study, StudyStatus
    from studies.services import study_ingest
    from studies.tests.factories import dicom_series_from_pictures

    owner = get_user_model().objects.create_user(username="bench", password=None)
    paths, source = _pictures(slices, folder)
    files = [SimpleUploadedFile(name, data) for name, data, _z in dicom_series_from_pictures(paths)]
    started = [WorkerProcess().start() for _ in range(workers)]
    try:
        if not wait(lambda: AnalyserProcess.objects.count() >= workers, timeout=240, poll=0.2):
            raise SystemExit("The workers did not load the model:\n" + started[0].output[-3000:])
        time.sleep(1.0)
        upload_started = time.time()
        marks = {}
        with transaction.atomic():
            # Registered before the study's own on_commit (which sends the tasks), so it runs first:
            # the clock starts at the commit, and sending the 150 messages counts as overhead.
            transaction.on_commit(lambda: marks.setdefault("committed", time.time()))
            study = study_ingest(owner=owner, files=files)
        committed, published = marks["committed"], time.time()
        if not wait(lambda: Study.objects.get(pk=study.id).status == StudyStatus.DONE, timeout=1800, poll=0.5):
            raise SystemExit("The study did not finish:\n" + started[0].output[-3000:])
        study.refresh_from_db()
    finally:
        for worker in started:
            worker.stop()
    scans = list(Scan.objects.filter(study_slice__series__study=study))
    analysis = [(scan.finished_at - scan.processing_started_at).total_seconds() for scan in scans]
    task_seconds = [float(seconds) for worker in started for seconds in _TASK_SUCCEEDED.findall(worker.output)]
    measured = study.summarised_at.timestamp() - committed
    ideal = sum(analysis) / workers
    return {
        "slices": len(scans),
        "workers": workers,
        "images": source,
        "upload_seconds": round(committed - upload_started, 3),
        "publish_seconds": round(published - committed, 3),
        "seconds_commit_to_summary": round(measured, 3),
        "slices_per_second": round(len(scans) / measured, 3),
        "analysis_ms_p50": round(1000 * statistics.median(analysis), 1),
        # Where the rest goes: inside a task but outside the analysis (its database writes and the
        # finish check), and between tasks (the broker, the pool's hand-over).
        "task_ms_p50": round(1000 * statistics.median(task_seconds), 1) if task_seconds else None,
        "in_task_overhead_seconds": round(sum(task_seconds) - sum(analysis), 3) if task_seconds else None,
        "between_tasks_seconds": round(workers * measured - sum(task_seconds), 3) if task_seconds else None,
        "first_start_seconds": round(min(scan.processing_started_at for scan in scans).timestamp() - committed, 3),
        "last_slice_to_summary_seconds": round(study.summarised_at.timestamp() - max(scan.finished_at for scan in scans).timestamp(), 3),
        "analysis_bound_seconds": round(ideal, 3),
        "efficiency": round(ideal / measured, 3),
        "target_efficiency": TARGET_EFFICIENCY,
        "within_target": ideal / measured >= TARGET_EFFICIENCY,
        "summary_state": study.summary["state"],
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    return run_in_scratch(lambda folder: bench(args.slices, args.workers, folder))


if __name__ == "__main__":
    sys.exit(main())
