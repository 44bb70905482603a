"""Token auth: POST /api/v1/auth/token/, the django-axes lockout, anonymous and bad-token callers, session + CSRF."""

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.tests.conftest import assert_json_error
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/token/"


def test_it_returns_a_token_for_good_credentials(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=alice).key}


def test_it_audits_the_creation_once_and_returns_the_same_token_again(client, alice):
    first = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json").json()
    second = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json").json()
    assert first == second
    events = AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED)
    assert events.count() == 1 and events.get().actor == alice


def test_it_accepts_a_form_post(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200 and "token" in response.json()


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post(URL, {"username": "alice", "password": "wrong"}, content_type="application/json")
    assert_json_error(response, 401)
    assert not Token.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, actor_username="alice").count() == 1


def test_it_refuses_missing_fields(client):
    body = assert_json_error(client.post(URL, {}, content_type="application/json"), 400)
    assert set(body["fields"]) == {"username", "password"}


def test_it_locks_out_like_the_login_page(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(URL, {"username": "alice", "password": "wrong"}, content_type="application/json")
    # Locked: even the right password is refused, in JSON, with 429.
    response = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json")
    body = assert_json_error(response, 429)
    assert "locked" in body["error"]
    assert not Token.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT, actor_username="alice").exists()
    # The login page shares the lockout.
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_it_rejects_get(client):
    assert_json_error(client.get(URL), 405)


def test_anonymous_callers_get_401_json(client):
    response = client.get("/api/v1/scans/")
    assert_json_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_gets_401_json(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_json_error(client.get("/api/v1/scans/"), 401)


def test_a_revoked_token_stops_working(alice_api, alice):
    assert alice_api.get("/api/v1/scans/").status_code == 200
    Token.objects.filter(user=alice).delete()
    assert_json_error(alice_api.get("/api/v1/scans/"), 401)


def test_the_browser_session_works_with_csrf(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/scans/").status_code == 200
    body = assert_json_error(client.post("/api/v1/scans/", {}), 403)
    assert "CSRF" in body["error"]
