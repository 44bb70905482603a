"""One date-time format, with the zone's name, everywhere (neuroscan/formats/en/formats.py)."""

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from neuroscan.testing import ROOT
from neuroscan.timefmt import format_datetime

MOMENT = datetime(2026, 1, 15, 13, 5, 9, tzinfo=UTC)


def test_it_writes_utc_by_default(settings):
    settings.TIME_ZONE = "UTC"
    assert format_datetime(MOMENT) == "2026-01-15 13:05 UTC"


@pytest.mark.parametrize(("zone", "expected"), [("Europe/Paris", "2026-01-15 14:05 CET"), ("America/New_York", "2026-01-15 08:05 EST")])
def test_it_writes_local_time_of_time_zone_with_its_name(settings, zone, expected):
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        assert format_datetime(MOMENT) == expected


def test_templates_use_only_the_named_formats():
    # A literal format in a template would be a second format: every |date names one of ours.
    for template in (ROOT / "templates").rglob("*.html"):
        for argument in re.findall(r'\|date(?::"([^"]*)")?', template.read_text()):
            assert argument in ("DATETIME_FORMAT", "DATE_FORMAT"), f"{template.name}: |date:{argument!r}"


@pytest.mark.django_db
def test_pages_and_admin_show_the_zone(client, alice, admin_client, settings):
    from scans.tests.factories import make_scan

    scan = make_scan(alice)
    client.force_login(alice)
    stamp = format_datetime(scan.created_at)
    assert stamp.endswith(" UTC")
    assert stamp in client.get(f"/scans/{scan.id}/").content.decode()
    assert stamp in client.get("/scans/").content.decode()
    assert stamp in admin_client.get("/admin/scans/scan/").content.decode()
