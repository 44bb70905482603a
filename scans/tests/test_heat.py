"""The authorising stream of the Grad-CAM heat (grey levels), for "hottest region only"."""

import io

import numpy as np
import pytest
from PIL import Image

from scans.models import Prediction
from scans.tests.factories import make_done_scan, make_scan

pytestmark = pytest.mark.django_db


def test_it_streams_the_heat_as_grey_levels_at_the_images_size(client, alice):
    scan = make_done_scan(alice)
    client.force_login(alice)
    response = client.get(f"/scans/{scan.id}/heat/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    heat = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert heat.mode == "L" and heat.size == (scan.width, scan.height)
    assert np.asarray(heat).max() == 0  # the fake classifier's heat is all zeros


def test_it_is_404_before_the_analysis_and_for_older_predictions(client, alice):
    queued = make_scan(alice)
    older = make_done_scan(alice)
    Prediction.objects.filter(scan=older).update(heat="")
    client.force_login(alice)
    assert client.get(f"/scans/{queued.id}/heat/").status_code == 404
    assert client.get(f"/scans/{older.id}/heat/").status_code == 404


def test_charlie_gets_404(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    assert client.get(f"/scans/{scan.id}/heat/").status_code == 404
    assert client.post(f"/scans/{scan.id}/heat/").status_code == 404


def test_a_reviewer_may_fetch_it(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    assert client.get(f"/scans/{scan.id}/heat/").status_code == 200


def test_it_redirects_anonymous_users_to_login(client, alice):
    scan = make_done_scan(alice)
    assert client.get(f"/scans/{scan.id}/heat/").status_code == 302
