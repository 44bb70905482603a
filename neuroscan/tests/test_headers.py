"""Security headers: a strict CSP and no inline script on any page, no caching of pages, no framing of static files."""

import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from scans.tests.factories import make_done_scan

pytestmark = pytest.mark.django_db
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _pages(scan) -> list[str]:
    return ["/", "/scans/", "/scans/upload/", f"/scans/{scan.id}/", "/accounts/api-token/", "/accounts/security/",
            "/accounts/password/change/", "/reviews/", "/reviews/agreement/", "/api/docs/"]  # fmt: skip


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_every_page_has_a_strict_policy_and_no_inline_script(bob_client, alice):
    scan = make_done_scan(alice)
    anonymous = Client()
    for url in [*_pages(scan), "/accounts/login/", "/accounts/register/", "/accounts/password/reset/"]:
        response = (anonymous if url.startswith(("/accounts/login", "/accounts/register", "/accounts/password/reset"))
                    else bob_client).get(url)  # fmt: skip
        assert response.status_code == 200, url
        policy = _policy(response)
        assert policy["script-src"] == "script-src 'self'", url
        assert policy["frame-ancestors"] == "frame-ancestors 'none'" and policy["object-src"] == "object-src 'none'"
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), f"inline <script> on {url}"
        assert not INLINE_HANDLER.search(html), f"inline event handler on {url}"


def test_swagger_ui_starts_from_a_script_file(client, alice):
    client.force_login(alice)
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert any("script" in source for source in sources if source.startswith("/api/docs/")), sources
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()


def test_pages_are_not_cached(bob_client, alice):
    scan = make_done_scan(alice)
    for url in _pages(scan):
        assert "no-store" in bob_client.get(url)["Cache-Control"], url
    assert "no-store" in Client().get("/accounts/login/")["Cache-Control"]


def test_a_response_choosing_its_own_caching_keeps_it(client):
    assert client.get("/api/v1/health/")["Cache-Control"] == "no-store"


def test_static_files_may_not_be_framed(tmp_path):
    static_root = tmp_path / "static"
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # fmt: skip
    with override_settings(STATIC_ROOT=static_root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        response = Client().get("/static/scans/upload.js")  # a new handler: WhiteNoise reads this STATIC_ROOT
        assert response.status_code == 200
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
