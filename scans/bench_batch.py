"""`python -m scans.bench_batch`: how soon after an upload of 10 slices the last result is in, as JSON.

Runs the embedded mode for real in a scratch folder: a SQLite file, the filesystem broker, and
a `celery worker` process as the Procfile starts it (concurrency 1). It waits until the worker
has loaded the model (an idle, warm service), then stores a batch through the ingest service in
one transaction (an upload of several files), and measures from the commit (the tasks are
sent then) to the last scan's finished_at. Training slices are used when the data set is there,
else made-up slices. Repeat runs and quote the median; the target on an idle machine is 3 s.

    python -m scans.bench_batch [--batch 10] [--runs 3]
"""

import argparse
import os
import statistics
import sys
import time

from neuroscan.benchmarking import run_in_scratch, wait

TARGET_SECONDS = 3.0


def _slices(count: int) -> tuple[list[tuple[str, bytes]], str]:
    from conftest import DATA_DIR

    training = DATA_DIR / "brain-mri" / "Training"
    if training.is_dir():
        files = [path for folder in sorted(training.iterdir()) for path in sorted(folder.glob("*.jpg"))[:count]]
        picked = files[:: max(1, len(files) // count)][:count]
        return [(path.name, path.read_bytes()) for path in picked], "training slices"
    from scans.tests.factories import image_bytes

    return [(f"synthetic-{n}.png", image_bytes(width=256 + n, height=256)) for n in range(count)], "synthetic slices"


def bench(batch: int, runs: int) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from neuroscan.testing import WorkerProcess
    from scans.models import AnalyserProcess, Scan, ScanStatus
    from scans.services import scan_ingest
    from scans.tests.factories import upload_file

    slices, source = _slices(batch)
    totals, analysis_ms, waits = [], [], []
    with WorkerProcess() as worker:
        if not wait(AnalyserProcess.objects.exists, timeout=180, poll=0.2):
            raise SystemExit("The worker did not load the model:\n" + worker.output[-3000:])
        for run in range(runs):
            time.sleep(1.0)  # idle again
            # A new owner each run: the same file again from the same owner is answered with the
            # scan already made (a retry), which would time nothing.
            owner = get_user_model().objects.create_user(username=f"bench-{run}", password=None)
            with transaction.atomic():
                ids = [scan_ingest(owner=owner, uploaded_file=upload_file(data, name)).id for name, data in slices]
            committed = time.time()  # on_commit has just sent the tasks
            finished = {ScanStatus.DONE, ScanStatus.FAILED}
            if not wait(lambda: Scan.objects.filter(pk__in=ids, status__in=finished).count() == len(ids), timeout=120, poll=0.02):
                raise SystemExit("The batch did not finish in 120 s:\n" + worker.output[-3000:])
            scans = list(Scan.objects.filter(pk__in=ids))
            totals.append(max(scan.finished_at.timestamp() for scan in scans) - committed)
            analysis_ms += [1000 * (s.finished_at - s.processing_started_at).total_seconds() for s in scans]
            waits += [s.processing_started_at.timestamp() - committed for s in scans]
    median = statistics.median(totals)
    return {
        "batch": batch,
        "runs": runs,
        "images": source,
        "broker": settings.CELERY_BROKER_URL.split(":")[0],
        "polling_interval_s": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("polling_interval"),
        "seconds_upload_to_last_result": [round(total, 3) for total in totals],
        "median_seconds": round(median, 3),
        "target_seconds": TARGET_SECONDS,
        "within_target": median <= TARGET_SECONDS,
        "analysis_ms_p50": round(statistics.median(analysis_ms), 1),
        "first_start_after_upload_s_p50": round(statistics.median(waits), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    return run_in_scratch(lambda _folder: bench(args.batch, args.runs))


if __name__ == "__main__":
    sys.exit(main())
