"""Each scan action leaves exactly one audit event with the right actor and object."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from scans.models import Scan
from scans.tests.factories import image_bytes, make_done_scan, upload_file

pytestmark = pytest.mark.django_db


def _only(action):
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, f"{len(events)} {action} events"
    return events[0]


def test_an_upload_is_recorded_once_per_file(client, alice, sent_tasks):
    client.force_login(alice)
    client.post(reverse("scans:upload"), {"files": [upload_file(image_bytes(), "a.png"), upload_file(image_bytes(), "b.png")]})
    events = AuditEvent.objects.filter(action="upload", actor=alice)
    assert sorted(e.object_id for e in events) == sorted(str(pk) for pk in Scan.objects.values_list("pk", flat=True))
    assert events.count() == 2


def test_a_refused_upload_records_nothing(client, alice, sent_tasks):
    client.force_login(alice)
    client.post(reverse("scans:upload"), {"files": [upload_file(b"", "empty.png")]})
    assert not AuditEvent.objects.filter(action="upload").exists()


def test_a_heatmap_fetch_is_recorded_once(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    assert client.get(reverse("scans:heatmap", args=[scan.id])).status_code == 200
    event = _only("fetch_heatmap")
    assert (event.actor, event.object_type, event.object_id) == (bob, "scan", str(scan.id))


def test_a_result_view_by_a_reviewer_names_the_reviewer(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    client.get(reverse("scans:detail", args=[scan.id]))
    assert _only("view_result").actor == bob
