"""The authorising streams of the uploaded slice and its thumbnail."""

import io

import pytest
from PIL import Image

from scans.tests.factories import dicom_bytes, make_scan

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("path", "filename"), [("image", "scan.png"), ("thumbnail", "thumbnail.png")])
def test_it_streams_the_png_to_the_owner_with_safe_headers(client, alice, path, filename):
    scan = make_scan(alice, data=dicom_bytes(), name="IM0001.dcm")
    client.force_login(alice)
    response = client.get(f"/scans/{scan.id}/{path}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{filename}"'
    assert "no-store" in response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert image.format == "PNG"


@pytest.mark.parametrize("path", ["image", "thumbnail"])
def test_charlie_gets_404(client, alice, charlie, path):
    scan = make_scan(alice)
    client.force_login(charlie)
    assert client.get(f"/scans/{scan.id}/{path}/").status_code == 404
    assert client.post(f"/scans/{scan.id}/{path}/").status_code == 404


@pytest.mark.parametrize("path", ["image", "thumbnail"])
def test_a_reviewer_may_fetch_it(client, alice, bob, path):
    scan = make_scan(alice)
    client.force_login(bob)
    assert client.get(f"/scans/{scan.id}/{path}/").status_code == 200


def test_it_rejects_post_from_the_owner(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    assert client.post(f"/scans/{scan.id}/image/").status_code == 405


def test_it_redirects_anonymous_users_to_login(client, alice):
    scan = make_scan(alice)
    assert client.get(f"/scans/{scan.id}/image/").status_code == 302


def test_media_files_have_no_public_url(client, alice, settings):
    scan = make_scan(alice)
    client.force_login(alice)
    for prefix in ("/media/", "/static/", "/"):
        assert client.get(prefix + scan.display.name).status_code == 404


def test_it_records_the_fetch_in_the_audit_trail(client, alice):
    from accounts.models import AuditEvent

    scan = make_scan(alice)
    client.force_login(alice)
    client.get(f"/scans/{scan.id}/image/")
    assert AuditEvent.objects.filter(action="fetch_image", object_id=str(scan.id)).count() == 1
