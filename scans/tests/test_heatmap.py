"""The authorising stream of the Grad-CAM overlay."""

import pytest

from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db


def test_it_streams_the_overlay_to_the_owner(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    response = client.get(f"/scans/{scan.id}/heatmap/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="heatmap.png"'
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_it_is_404_before_the_analysis(client, alice):
    scan = make_scan(alice)
    client.force_login(alice)
    assert client.get(f"/scans/{scan.id}/heatmap/").status_code == 404


def test_charlie_gets_404(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    assert client.get(f"/scans/{scan.id}/heatmap/").status_code == 404
    assert client.post(f"/scans/{scan.id}/heatmap/").status_code == 404


def test_a_reviewer_may_fetch_it(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    assert client.get(f"/scans/{scan.id}/heatmap/").status_code == 200


def test_it_redirects_anonymous_users_to_login(client, alice):
    scan = make_done_scan(alice)
    assert client.get(f"/scans/{scan.id}/heatmap/").status_code == 302
