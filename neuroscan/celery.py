"""The Celery app: configuration comes from Django settings (CELERY_* names).

Celery's Django fix-up closes unusable or stale database connections before and
after every task; with CONN_HEALTH_CHECKS on, a connection dropped by the
database server between tasks is replaced instead of failing the next task.
"""

import os
import warnings
from pathlib import Path

from celery import Celery
from celery.exceptions import SecurityWarning

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neuroscan.settings")
# TensorFlow's C++ start-up notes (oneDNN is on, which CPU instructions it uses) are INFO
# lines on stderr in every worker process; 1 keeps its warnings and errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
# Containers often run everything as root. Celery refuses root outright when it would unpickle
# messages; this app accepts JSON only (CELERY_ACCEPT_CONTENT), so the remaining warning is noise.
warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges", category=SecurityWarning)

app = Celery("neuroscan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """Create the folders the embedded filesystem transport reads and writes."""
    for option in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = app.conf.broker_transport_options.get(option)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    backend = app.conf.result_backend or ""
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_embedded_transport(sender, **kwargs) -> None:
    ensure_broker_folders()


@app.task(name="neuroscan.ping")
def ping() -> str:
    """Prove the wiring end to end: a worker received this and answered."""
    return "pong"
