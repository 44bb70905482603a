"""One request decodes a bounded amount; the same file sent again is answered with the scan already made."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from scans.models import Scan
from scans.services import scan_ingest
from scans.tests.conftest import media_files
from scans.tests.factories import image_bytes, upload_file

pytestmark = pytest.mark.django_db
API = "/api/v1/scans/"


@pytest.fixture
def alice_api(alice):
    api = APIClient()
    api.force_authenticate(alice)
    return api


# --- Idempotent uploads ----------------------------------------------------------------------------


def test_the_same_file_again_is_answered_with_the_same_scan(alice, bob, sent_tasks):
    data = image_bytes()
    first = scan_ingest(owner=alice, uploaded_file=upload_file(data))
    again = scan_ingest(owner=alice, uploaded_file=upload_file(data, "renamed.png"))
    assert again.id == first.id and Scan.objects.count() == 1 and len(media_files()) == 3
    # Another user's identical file is their own scan.
    assert scan_ingest(owner=bob, uploaded_file=upload_file(data)).id != first.id


def test_after_the_window_the_same_file_is_a_new_scan(settings, alice, sent_tasks):
    data = image_bytes()
    first = scan_ingest(owner=alice, uploaded_file=upload_file(data))
    Scan.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(seconds=settings.SCANS_DUPLICATE_WINDOW_SECONDS + 1))
    assert scan_ingest(owner=alice, uploaded_file=upload_file(data)).id != first.id


def test_a_retried_api_batch_creates_nothing_new(alice_api, sent_tasks):
    files = [image_bytes(), image_bytes()]
    first = alice_api.post(API, {"file": [upload_file(data, f"{n}.png") for n, data in enumerate(files)]}, format="multipart")
    again = alice_api.post(API, {"file": [upload_file(data, f"{n}.png") for n, data in enumerate(files)]}, format="multipart")
    assert first.status_code == again.status_code == 201
    assert [scan["id"] for scan in again.json()] == [scan["id"] for scan in first.json()]
    assert Scan.objects.count() == 2


def test_a_duplicate_does_not_count_against_the_quota(settings, alice, sent_tasks):
    settings.SCANS_UPLOADS_PER_HOUR = 1
    data = image_bytes()
    first = scan_ingest(owner=alice, uploaded_file=upload_file(data))
    assert scan_ingest(owner=alice, uploaded_file=upload_file(data)).id == first.id


# --- Bounded work per request ----------------------------------------------------------------------


def test_files_past_the_pixel_budget_are_deferred_with_nothing_stored(settings, alice_api, sent_tasks):
    settings.SCANS_REQUEST_MAX_PIXELS = 2 * 96 * 80  # two of these slices per request
    files = [upload_file(image_bytes(), f"{n}.png") for n in range(3)]
    response = alice_api.post(API, {"file": files}, format="multipart")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    body = response.json()
    assert len(body["scans"]) == 2 and Scan.objects.count() == 2
    assert body["files"] == [{"name": "2.png", "code": "deferred", "error": body["files"][0]["error"]}]
    assert "send it again" in body["files"][0]["error"]


def test_with_no_time_left_nothing_is_decoded(settings, client, alice, sent_tasks):
    settings.SCANS_REQUEST_DECODE_SECONDS = 0
    client.force_login(alice)
    response = client.post(reverse("scans:upload"), {"files": [upload_file(image_bytes())]},
                                 headers={"Accept": "application/json"})  # fmt: skip
    assert response.status_code == 503
    assert response.json()["results"][0]["code"] == "deferred"
    assert not Scan.objects.exists() and media_files() == []


def test_a_deferred_file_sent_again_is_accepted(settings, alice_api, sent_tasks):
    settings.SCANS_REQUEST_MAX_PIXELS = 96 * 80
    data = [image_bytes(), image_bytes()]
    first = alice_api.post(API, {"file": [upload_file(d, f"{n}.png") for n, d in enumerate(data)]}, format="multipart")
    assert first.status_code == 503
    second = alice_api.post(API, {"file": [upload_file(data[1], "1.png")]}, format="multipart")
    assert second.status_code == 201 and Scan.objects.count() == 2
