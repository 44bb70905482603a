"""Dates and times outside templates (the PDF, messages), in the same format as the pages.

Uses the format of neuroscan/formats/en/formats.py directly, so the pure PDF builder and its
benchmark need no app registry.
"""

from datetime import datetime

from django.utils import dateformat, timezone

from neuroscan.formats.en.formats import DATETIME_FORMAT


def format_datetime(moment: datetime | None) -> str:
    """'2026-03-01 14:05 CET': TIME_ZONE's local time with the zone's name; '' for None."""
    if moment is None:
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, DATETIME_FORMAT)
