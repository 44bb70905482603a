"""The upload view: form post without JavaScript, JSON answers for the per-file uploader, CSRF, quota."""

import pytest
from django.test import Client
from django.urls import reverse

from scans.models import Scan
from scans.tests.conftest import media_files
from scans.tests.factories import image_bytes, upload_file

pytestmark = pytest.mark.django_db
URL = "/scans/upload/"


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_it_is_at_a_stable_url():
    assert reverse("scans:upload") == URL


def test_it_redirects_anonymous_users_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(URL, {"files": [upload_file(image_bytes())]})
    assert response.status_code == 302 and Scan.objects.count() == 0


def test_it_shows_the_form(alice_client):
    response = alice_client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'type="file"' in content and "multiple" in content and 'enctype="multipart/form-data"' in content
    assert "scans/upload.js" in content


def test_it_enforces_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(URL, {"files": [upload_file(image_bytes())]})
    assert response.status_code == 403
    assert Scan.objects.count() == 0 and media_files() == []


def test_it_redirects_to_the_result_of_a_single_file(alice_client, sent_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(URL, {"files": [upload_file(image_bytes())], "patient_reference": "STUDY-7"})
    scan = Scan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scans/{scan.id}/"
    assert scan.patient_reference == "STUDY-7"
    assert sent_tasks[0]["args"] == [str(scan.id)]


def test_it_makes_one_scan_per_file(alice_client, sent_tasks, django_capture_on_commit_callbacks):
    files = [upload_file(image_bytes(), "a.png"), upload_file(image_bytes("JPEG"), "b.jpg")]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(URL, {"files": files})
    assert response.status_code == 302 and response["Location"] == "/scans/"
    assert sorted(Scan.objects.values_list("original_name", flat=True)) == ["a.png", "b.jpg"]
    assert len(sent_tasks) == 2


def test_it_keeps_the_accepted_files_of_a_mixed_batch(alice_client, sent_tasks, django_capture_on_commit_callbacks):
    files = [upload_file(image_bytes(), "good.png"), upload_file(b"not an image at all", "bad.png"), upload_file(b"", "empty.png")]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(URL, {"files": files})
    assert response.status_code == 200
    content = response.content.decode()
    assert "good.png" in content and "open result" in content
    assert "bad.png" in content and "not an image NeuroScan can read" in content
    assert "empty.png" in content and "The file is empty." in content
    assert list(Scan.objects.values_list("original_name", flat=True)) == ["good.png"]
    assert len(sent_tasks) == 1


def test_it_answers_json_for_the_per_file_uploader(alice_client, sent_tasks):
    response = alice_client.post(URL, {"files": [upload_file(image_bytes())]}, headers={"Accept": "application/json"})
    assert response.status_code == 201
    result = response.json()["results"][0]
    scan = Scan.objects.get()
    assert result == {"name": "slice.png", "ok": True, "scan_id": str(scan.id), "url": f"/scans/{scan.id}/",
                      "status_url": f"/scans/{scan.id}/status/", "duplicate_of": None}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "setting", "status", "message"),
    [
        (b"", {}, 400, "empty"),
        (b"GIF89a" + b"\x00" * 100, {}, 400, "not an image"),
        (image_bytes(), {"SCANS_MAX_UPLOAD_BYTES": 100}, 413, "limit"),
        (image_bytes(), {"SCANS_UPLOADS_PER_HOUR": 1}, 429, "Too many uploads"),
    ],
)
def test_it_answers_a_refusal_with_a_fitting_status(alice_client, alice, settings, sent_tasks, data, setting, status, message):
    for name, value in setting.items():
        setattr(settings, name, value)
    if "SCANS_UPLOADS_PER_HOUR" in setting:
        alice_client.post(URL, {"files": [upload_file(image_bytes())]})  # uses up the quota
    before = Scan.objects.count()
    response = alice_client.post(URL, {"files": [upload_file(data)]}, headers={"Accept": "application/json"})
    assert response.status_code == status
    result = response.json()["results"][0]
    assert result["ok"] is False and message in result["error"]
    assert Scan.objects.count() == before


def test_it_asks_for_a_file_when_none_is_sent(alice_client):
    response = alice_client.post(URL, {"patient_reference": "x"})
    assert response.status_code == 400 and "Choose at least one file" in response.content.decode()


def test_it_refuses_an_overlong_patient_reference(alice_client):
    response = alice_client.post(URL, {"files": [upload_file(image_bytes())], "patient_reference": "x" * 65})
    assert response.status_code == 400 and Scan.objects.count() == 0


def test_it_points_out_the_same_file_uploaded_again_soon_as_that_scan(alice_client, alice, sent_tasks):
    data = image_bytes()
    first = alice_client.post(URL, {"files": [upload_file(data, "a.png")]}, HTTP_ACCEPT="application/json").json()
    assert first["results"][0]["duplicate_of"] is None
    again = alice_client.post(URL, {"files": [upload_file(data, "b.png")]}, HTTP_ACCEPT="application/json").json()
    duplicate = again["results"][0]["duplicate_of"]
    assert duplicate["scan_id"] == first["results"][0]["scan_id"] and duplicate["same_scan"] is True
    assert duplicate["uploaded"].endswith(" UTC")
    page = alice_client.post(URL, {"files": [upload_file(data, "c.png")]}, follow=True).content.decode()
    assert "was uploaded already, on" in page and "this is that scan, not a new one" in page
    assert Scan.objects.filter(owner=alice).count() == 1


def test_it_points_out_the_same_file_uploaded_again_later_as_a_new_scan(alice_client, alice, sent_tasks, settings):
    settings.SCANS_DUPLICATE_WINDOW_SECONDS = 0  # past the idempotency window: a new scan is made
    data = image_bytes()
    first = alice_client.post(URL, {"files": [upload_file(data, "a.png")]}, HTTP_ACCEPT="application/json").json()
    again = alice_client.post(URL, {"files": [upload_file(data, "b.png")]}, HTTP_ACCEPT="application/json").json()
    duplicate = again["results"][0]["duplicate_of"]
    assert duplicate["scan_id"] == first["results"][0]["scan_id"] and duplicate["same_scan"] is False
    assert again["results"][0]["scan_id"] != first["results"][0]["scan_id"]
    page = alice_client.post(URL, {"files": [upload_file(data, "c.png")]}, follow=True).content.decode()
    assert "“c.png” is the same file as one you uploaded on" in page
    assert Scan.objects.filter(owner=alice).count() == 3  # pointed out, not refused


def test_another_users_same_file_is_not_pointed_out(client, alice, charlie, sent_tasks):
    data = image_bytes()
    client.force_login(charlie)
    client.post(URL, {"files": [upload_file(data, "a.png")]}, HTTP_ACCEPT="application/json")
    client.force_login(alice)
    body = client.post(URL, {"files": [upload_file(data, "a.png")]}, HTTP_ACCEPT="application/json").json()
    assert body["results"][0]["duplicate_of"] is None


def test_the_favicon_is_served_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
