"""Token auth: POST /api/v1/auth/token/, the django-axes lockout, anonymous and bad-token callers, session + CSRF."""

import pytest
from django.conf import settings
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.models import ApiToken
from api.services import token_create, token_hash
from api.tests.conftest import assert_json_error
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/token/"


def test_it_returns_a_token_for_good_credentials(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 200
    key = response.json()["token"]
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == token_hash(key) and token.prefix == key[:8] and response.json()["expires_at"]


def test_it_stores_only_a_hash_of_the_key(client, alice):
    from io import StringIO

    from django.core.management import call_command

    key = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json").json()["token"]
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert len(key) >= 40 and key not in dump.getvalue()


def test_each_login_makes_its_own_token_and_audits_it(client, alice):
    first = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json").json()
    second = client.post(URL, {"username": "alice", "password": PASSWORD}, content_type="application/json").json()
    assert first["token"] != second["token"] and ApiToken.objects.filter(user=alice).count() == 2
    events = AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED)
    assert events.count() == 2 and {event.actor for event in events} == {alice}


def test_it_accepts_a_form_post(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200 and "token" in response.json()


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post(URL, {"username": "alice", "password": "wrong"}, content_type="application/json")
    assert_json_error(response, 401)
    assert not ApiToken.objects.exists()
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
    assert not ApiToken.objects.exists()
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
    ApiToken.objects.filter(user=alice).delete()
    assert_json_error(alice_api.get("/api/v1/scans/"), 401)


def _token_api(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_an_expired_token_is_refused(alice):
    token, key = token_create(user=alice)
    assert _token_api(key).get("/api/v1/scans/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_json_error(_token_api(key).get("/api/v1/scans/"), 401)
    assert "expired" in body["error"]


def test_a_token_expires_after_the_configured_days(settings, alice):
    settings.API_TOKEN_TTL_DAYS = 7
    token, _key = token_create(user=alice)
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)


def test_it_records_when_a_token_was_last_used(alice):
    token, key = token_create(user=alice)
    assert token.last_used_at is None
    _token_api(key).get("/api/v1/scans/")
    token.refresh_from_db()
    assert token.last_used_at is not None and timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_a_password_set_anywhere_ends_earlier_tokens(alice):
    """Even a password set outside the portal's pages (admin, command line) ends the tokens made before it."""
    _token, key = token_create(user=alice)
    alice.set_password("a brand new passphrase 42")
    alice.save()
    body = assert_json_error(_token_api(key).get("/api/v1/scans/"), 401)
    assert "password change" in body["error"]


def test_the_browser_session_works_with_csrf(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/scans/").status_code == 200
    body = assert_json_error(client.post("/api/v1/scans/", {}), 403)
    assert "CSRF" in body["error"]
