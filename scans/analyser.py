"""The analysis service's readiness: worker processes load and warm the model at start and say so.

Without this, the first scan after a start waited ~10 s while its worker imported TensorFlow
and loaded the weights. Now each pool process does that before it takes a task
(celery's worker_process_init, wired in scans.tasks), then records an AnalyserProcess row; the
result page shows "the analysis service is starting" while no row exists.
"""

import contextlib
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator

import numpy as np
from django.db import transaction
from django.utils import timezone

from scans.models import AnalyserProcess

logger = logging.getLogger(__name__)


def _warm_up_slice() -> np.ndarray:
    """A made-up grey slice (H, W) uint8: a bright ellipse on black, exercising every step once."""
    yy, xx = np.mgrid[0:256, 0:256]
    ellipse = ((xx - 128) / 100.0) ** 2 + ((yy - 128) / 110.0) ** 2 <= 1
    return np.where(ellipse, 140, 0).astype(np.uint8)


# Printed by TensorFlow's native start-up code before TF_CPP_MIN_LOG_LEVEL is read, so no
# setting hides them (turning oneDNN off would, but makes each analysis about 4x slower).
_TENSORFLOW_START_NOTES = ("oneDNN custom operations are on", "All log messages before absl::InitializeLog()")


@contextlib.contextmanager
def _without_tensorflow_start_notes() -> Iterator[None]:
    """Catch what native code writes to stderr (fd 2) meanwhile; pass on every line but the known notes."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not any(note in line for note in _TENSORFLOW_START_NOTES):
                    sys.stderr.write(line)
            sys.stderr.flush()


def analyser_start(*, classifier_factory: Callable | None = None) -> str:
    """Load the model in this process, run it once, and record the process as ready. Returns the model version."""
    if classifier_factory is None:
        from ml.inference import get_classifier as classifier_factory  # the per-process singleton

    with _without_tensorflow_start_notes():
        classifier = classifier_factory()
        # The first call pays for tracing, Grad-CAM and OpenCV set-up. explain, not analyse: the made-up
        # slice is refused as not a brain MRI, and analyse draws no heat map over a refusal.
        classifier.explain(_warm_up_slice())
    version = str(getattr(classifier, "model_version", "") or "unknown")
    with transaction.atomic():
        AnalyserProcess.objects.update_or_create(
            hostname=socket.gethostname(), pid=os.getpid(),
            defaults={"model_version": version, "ready_at": timezone.now()},
        )  # fmt: skip
    logger.info("Analyser process %d ready (model %s).", os.getpid(), version)
    return version


def analyser_stop() -> None:
    """This process stops taking tasks: forget it."""
    AnalyserProcess.objects.filter(hostname=socket.gethostname(), pid=os.getpid()).delete()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that id: leave its row alone
    return True


def analysers_forget_dead() -> int:
    """At a worker's start: remove rows of this machine's processes that died without a goodbye."""
    rows = AnalyserProcess.objects.filter(hostname=socket.gethostname())
    dead = [row.pk for row in rows if not _alive(row.pid)]
    AnalyserProcess.objects.filter(pk__in=dead).delete()
    return len(dead)


def analyser_running_here() -> bool:
    """Whether a worker process on this machine has the model loaded and is still alive.

    The embedded filesystem broker cannot broadcast a ping, but its queue is one machine's folder,
    so its workers are this machine's processes: their rows and process ids say whether one runs."""
    rows = AnalyserProcess.objects.filter(hostname=socket.gethostname()).values_list("pid", flat=True)
    return any(_alive(pid) for pid in rows)


def analyser_ready() -> bool:
    """Whether any worker process has the model loaded (read by the result page)."""
    return AnalyserProcess.objects.exists()
