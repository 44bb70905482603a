"""The API token page (accounts:api_token): create, replace, revoke; the key is shown once."""

import pytest

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from api.models import ApiToken
from api.services import token_create, token_hash

pytestmark = pytest.mark.django_db
URL = "/accounts/api-token/"


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_it_redirects_anonymous_users_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_is_linked_from_the_menu(alice_client):
    assert f'href="{URL}"' in alice_client.get("/").content.decode()


def test_it_creates_a_token_and_shows_it_once(alice_client, alice):
    assert "You have no API token" in alice_client.get(URL).content.decode()
    response = alice_client.post(URL, {"action": "create"})
    assert response.status_code == 302 and response["Location"] == URL  # POST-redirect-GET
    token = ApiToken.objects.get(user=alice)
    shown = alice_client.get(URL)
    key = shown.context["new_key"]
    assert key in shown.content.decode() and token.key_hash == token_hash(key)
    assert 'data-testid="copy-token"' in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED, actor=alice).count() == 1
    again = alice_client.get(URL).content.decode()  # a reload
    assert key not in again and "You have an API token" in again
    assert ApiToken.objects.get(user=alice).pk == token.pk  # ... replaced nothing


def test_it_shows_when_each_token_expires_and_was_last_used(alice_client, alice):
    from rest_framework.test import APIClient

    from django.template.defaultfilters import date
    from django.utils.timezone import localtime

    token, key = token_create(user=alice)
    page = alice_client.get(URL).content.decode()
    assert f"{token.prefix}…" in page and date(localtime(token.expires_at), "DATE_FORMAT") in page and "never" in page
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api.get("/api/v1/scans/")
    assert "never" not in alice_client.get(URL).content.decode()


def test_it_replaces_the_token(alice_client, alice):
    alice_client.post(URL, {"action": "create"})
    old = ApiToken.objects.get(user=alice).key_hash
    alice_client.post(URL, {"action": "create"})
    assert ApiToken.objects.get(user=alice).key_hash != old
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_CREATED).count() == 2


def test_it_revokes_the_token(alice_client, alice, bob):
    alice_client.post(URL, {"action": "create"})
    token_create(user=bob)
    response = alice_client.post(URL, {"action": "revoke"})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=alice).exists() and ApiToken.objects.filter(user=bob).exists()
    [event] = AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED)
    assert event.actor == alice
    alice_client.post(URL, {"action": "revoke"})  # nothing left to revoke: no second event
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1


def test_it_enforces_csrf(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(URL, {"action": "create"}).status_code == 403
    assert not ApiToken.objects.exists()
