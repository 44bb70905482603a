"""Celery tasks: thin wrappers over studies.services. They take ids only.

A study's slice is analysed by its own task, which runs the scans' analysis exactly as
scans.analyse does (scans.tasks.analyse_with_retries) and then, in the same run, writes the
study's summary if that slice was the last. One message per slice: a linked finish task per slice
(the first design) cost every slice a second trip through the broker, which on the embedded
broker is a poll interval each (`python -m studies.bench`).
"""

from celery import shared_task
from django.conf import settings

from scans.tasks import TRANSIENT_ERRORS, analyse_with_retries
from studies import services


@shared_task(name="studies.analyse_slice", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def analyse_slice(self, scan_id: str, study_id: str) -> str:
    """Analyse one slice of a study, then summarise the study if every slice has finished. Idempotent.

    Acknowledged late: a worker killed mid-run means it runs again; the analysis of a finished
    slice is skipped then, and the summary is written once whichever run gets there first.
    """
    outcome = analyse_with_retries(self, scan_id)
    try:
        services.study_finish(study_id=study_id)
    except TRANSIENT_ERRORS as error:
        # The slice is analysed; only the check failed. Run again (the analysis is skipped then);
        # past the retries the studies sweep writes the summary.
        raise self.retry(exc=error, countdown=settings.SCANS_TASK_RETRY_BACKOFF_SECONDS,
                         max_retries=settings.SCANS_TASK_MAX_RETRIES) from None  # fmt: skip
    return outcome


@shared_task(name="studies.sweep", ignore_result=True)
def sweep_studies() -> dict[str, int]:
    """Periodic (Celery beat): finish studies whose last slice was sent again by the scans sweep (without this task)."""
    return services.studies_sweep()
