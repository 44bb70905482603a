"""Errors look like the site, with a way on; a stale review form keeps the reviewer's note."""

import pytest
from django.test import Client

from reviews.models import Review
from scans.tests.factories import make_done_scan

pytestmark = pytest.mark.django_db


def test_an_unknown_url_gets_the_site_404_with_navigation(client, alice):
    client.force_login(alice)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-testid="error-page"' in page and "This page does not exist" in page
    assert 'href="/scans/"' in page and 'data-testid="nav-user"' in page


def test_charlie_gets_the_same_site_404_for_alices_scan(client, alice, charlie):
    scan = make_done_scan(alice)
    client.force_login(charlie)
    response = client.get(f"/scans/{scan.id}/")
    assert response.status_code == 404 and "This page does not exist" in response.content.decode()


def test_the_500_page_needs_no_request_context():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Something went wrong on our side" in page and 'href="/"' in page


def test_the_403_and_400_pages_render(rf):
    from django.template.loader import render_to_string

    assert "You may not open this page" in render_to_string("403.html")
    assert "could not be understood" in render_to_string("400.html")


def test_a_stale_form_gets_the_site_csrf_page(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/accounts/api-token/", {"action": "create"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page had expired" in page and "DEBUG" not in page


def test_a_stale_review_form_comes_back_with_the_note_kept(alice, bob):
    scan = make_done_scan(alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    client.get(f"/scans/{scan.id}/")  # the page that sets the CSRF cookie
    form = {"decision": "overridden", "override_label": "meningioma", "note": "Dural tail, see prior study.",
            "csrfmiddlewaretoken": "x" * 64}  # fmt: skip
    response = client.post(f"/reviews/scans/{scan.id}/", form)
    assert response.status_code == 302 and response["Location"] == f"/scans/{scan.id}/"
    assert not Review.objects.exists()  # nothing saved from an unverified form
    page = client.get(f"/scans/{scan.id}/").content.decode()
    assert "Your review was not saved because the page had expired" in page
    assert ">Dural tail, see prior study.</textarea>" in page
    assert 'value="overridden" id="review-override" checked' in page
    assert '<option value="meningioma" selected>' in page
    # Shown once: a reload is a clean form.
    assert "Dural tail" not in client.get(f"/scans/{scan.id}/").content.decode()


def test_a_review_without_a_decision_keeps_the_note(client, alice, bob):
    scan = make_done_scan(alice)
    client.force_login(bob)
    client.post(f"/reviews/scans/{scan.id}/", {"note": "Looks like a meningioma."})
    assert ">Looks like a meningioma.</textarea>" in client.get(f"/scans/{scan.id}/").content.decode()


def test_a_cross_site_review_post_keeps_nothing(alice, bob):
    scan = make_done_scan(alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    client.get(f"/scans/{scan.id}/")
    response = client.post(f"/reviews/scans/{scan.id}/", {"decision": "confirmed", "note": "planted"},
                           HTTP_ORIGIN="https://evil.example", HTTP_HOST="testserver")  # fmt: skip
    assert response.status_code == 403
    assert "planted" not in client.get(f"/scans/{scan.id}/").content.decode()
