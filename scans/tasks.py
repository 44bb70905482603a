"""Celery tasks: thin wrappers over scans.services. They take ids, never objects or pixels."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init, worker_process_init, worker_process_shutdown
from django.conf import settings
from django.db import DatabaseError

from scans import services

logger = logging.getLogger(__name__)

# Worth another try: the database or the storage hiccuped. A damaged file is not in this
# list: scan_analyse turns that into `failed` itself.
TRANSIENT_ERRORS = (DatabaseError, OSError)


@shared_task(name="scans.analyse", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def analyse_scan(self, scan_id: str) -> str:
    """Analyse one scan. Idempotent; acknowledged late, so a worker killed mid-run means it runs again."""
    return analyse_with_retries(self, scan_id)


def analyse_with_retries(task, scan_id: str) -> str:
    """The body of an analysis task (`task`: the bound task running it): transient errors retry `task` with backoff.

    Shared with tasks that analyse a scan and then do something of their own in the same run
    (a study's slice: studies.tasks), so that each retries, gives up and times out alike.
    """
    try:
        return services.scan_analyse(scan_id=scan_id)
    except SoftTimeLimitExceeded:
        services.scan_fail(scan_id=scan_id, reason="The analysis took too long and was stopped. Use Retry to try again.")
        return "failed"
    except TRANSIENT_ERRORS as error:
        retries = task.request.retries
        if retries >= settings.SCANS_TASK_MAX_RETRIES:
            logger.error("Scan %s: giving up after %d retries (%s).", scan_id, retries, type(error).__name__)
            services.scan_fail(
                scan_id=scan_id,
                reason="A temporary problem with the database or file storage stopped the analysis. Use Retry to try again.",
            )
            return "failed"
        countdown = min(2 ** retries * settings.SCANS_TASK_RETRY_BACKOFF_SECONDS, 300)
        logger.warning("Scan %s: %s, retrying in %ds.", scan_id, type(error).__name__, countdown)
        raise task.retry(exc=error, countdown=countdown, max_retries=settings.SCANS_TASK_MAX_RETRIES) from None


@shared_task(name="scans.sweep", ignore_result=True)
def sweep_scans() -> dict[str, int]:
    """Periodic (Celery beat): re-send scans left queued or stuck in processing."""
    return services.scans_sweep()


# --- Worker process life: the model is loaded before the first task, not during it ------------


@worker_init.connect
def _forget_dead_analysers(**kwargs) -> None:
    from scans.analyser import analysers_forget_dead

    try:
        analysers_forget_dead()
    except DatabaseError as error:  # the worker still starts; the page may say "starting" too long
        logger.warning("Could not tidy the analyser list (%s).", type(error).__name__)


@worker_process_init.connect
def _load_model(**kwargs) -> None:
    if not settings.SCANS_LOAD_MODEL_AT_START:
        return
    from scans.analyser import analyser_start

    try:
        analyser_start()
    except Exception as error:  # noqa: BLE001 - a task will load it again and fail its scan with a reason
        logger.error("Loading the model at worker start failed (%s); the first task will try again.", type(error).__name__)


@worker_process_shutdown.connect
def _forget_this_analyser(**kwargs) -> None:
    from scans.analyser import analyser_stop

    try:
        analyser_stop()
    except Exception as error:  # noqa: BLE001 - shutting down: never block it
        logger.warning("Could not remove this analyser from the list (%s).", type(error).__name__)
