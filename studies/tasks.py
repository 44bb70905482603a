"""Celery tasks: thin wrappers over studies.services. They take ids only.

Each slice is analysed by the scans' own task (scans.analyse); this one follows it (a Celery link)
to write the study's summary when the last slice is done.
"""

from celery import shared_task
from django.db import DatabaseError

from studies import services


@shared_task(name="studies.finish", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             autoretry_for=(DatabaseError, OSError), retry_backoff=5, retry_backoff_max=300, max_retries=5)  # fmt: skip
def finish_study(study_id: str) -> str:
    """Summarise the study if every slice has finished; idempotent (the summary is written once)."""
    return services.study_finish(study_id=study_id)


@shared_task(name="studies.sweep", ignore_result=True)
def sweep_studies() -> dict[str, int]:
    """Periodic (Celery beat): finish studies whose last slice was sent again without its link."""
    return services.studies_sweep()
