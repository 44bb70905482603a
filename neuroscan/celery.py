"""The Celery app: configuration comes from Django settings (CELERY_* names).

Database connections live in a worker as in the web server: around each task, Django closes the
ones that errored or outlived CONN_MAX_AGE (close_old_connections), and with CONN_HEALTH_CHECKS
on, one dropped by the database server between tasks is replaced instead of failing the next task.
Celery's Django fix-up would instead close every connection before and after every task, a new
connection per slice of a study (~1 ms on SQLite, more on PostgreSQL: `python -m studies.bench`);
CELERY_DB_REUSE_MAX in the settings turns that off.
"""

import os
import warnings
from pathlib import Path

from celery import Celery
from celery.exceptions import SecurityWarning
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

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


@task_prerun.connect
@task_postrun.connect
def _close_old_database_connections(sender=None, **kwargs) -> None:
    if getattr(sender.request, "is_eager", False):
        return  # run in the caller's process, maybe inside its transaction: its connection is not ours
    close_old_connections()


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
