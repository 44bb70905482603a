"""JSON errors for any API URL, the OpenAPI document and the Swagger UI served from local files."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

from api.tests.conftest import assert_json_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/nothing", "/api/v1/", "/api/v1/scans/x/y/z", "/api/v2/scans/", "/api/v1/scans/%0A/"])
def test_unknown_api_urls_are_json_404(client, alice_api, path):
    assert_json_error(client.get(path), 404)
    assert_json_error(alice_api.post(path), 404)


def test_unknown_api_urls_are_json_404_despite_a_csrf_cookie(alice):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.cookies.load("csrftoken=abc; sessionid=abc")
    assert_json_error(client.post("/api/v1/scans/null/reviews/"), 404)


def test_wrong_methods_are_json_405(alice_api):
    assert_json_error(alice_api.delete("/api/v1/scans/"), 405)
    assert_json_error(alice_api.put("/api/v1/health/"), 405)


def test_an_oversized_body_is_a_json_413(alice_api, alice, settings):
    from scans.tests.factories import make_done_scan

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = alice_api.post(f"/api/v1/scans/{make_done_scan(alice).id}/reviews/", {"decision": "confirmed", "note": "x" * 100}, format="json")
    assert_json_error(response, 413)


def test_malformed_json_is_a_json_400(alice_api, alice):
    from scans.tests.factories import make_done_scan

    response = alice_api.generic("POST", f"/api/v1/scans/{make_done_scan(alice).id}/reviews/", "{not json", content_type="application/json")
    assert_json_error(response, 400)


def test_a_body_without_a_content_type_is_a_documented_json_415(client):
    # Schemathesis once sent exactly this; DRF's parser negotiation refuses it before the view runs.
    response = client.generic("POST", "/api/v1/auth/token/", b"username=alice", content_type="")
    assert_json_error(response, 415)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    with_body = [operation for operations in schema["paths"].values() for operation in operations.values() if "requestBody" in operation]
    assert len(with_body) == 5  # token, scans upload, scan review, study upload, study review
    assert all("415" in operation["responses"] for operation in with_body)


def test_the_schema_is_openapi_3(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/scans/", "/api/v1/scans/{scan_id}/", "/api/v1/auth/token/", "/api/v1/health/",
            "/api/v1/model/", "/api/v1/scans/{scan_id}/reviews/", "/api/v1/scans/{scan_id}/image",
            "/api/v1/scans/{scan_id}/heatmap", "/api/v1/scans/{scan_id}/report", "/api/v1/studies/",
            "/api/v1/studies/{study_id}/", "/api/v1/studies/{study_id}/report",
            "/api/v1/studies/{study_id}/reviews/"} <= set(schema["paths"])  # fmt: skip
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_docs_are_served_from_local_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "https://"):
        assert cdn not in html
    # collectstatic (and the test server) find the bundle in the installed sidecar app.
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_the_docs_work_with_the_production_static_files(client, settings, tmp_path):
    """collectstatic gathers the sidecar's Swagger UI into the hashed manifest the portal serves."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    [bundle] = re.findall(r"/static/(drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.[0-9a-f]{12}\.js)", response.content.decode())
    assert (tmp_path / bundle).exists()
