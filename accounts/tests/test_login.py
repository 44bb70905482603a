import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD

URL = reverse("accounts:login")

pytestmark = pytest.mark.django_db


def test_it_logs_in_with_the_right_password(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home")).context["user"] == alice


def test_it_rotates_the_session_key(client, alice):
    client.get(URL)
    client.cookies["sessionid"] = "planted-by-an-attacker"
    client.post(URL, {"username": "alice", "password": PASSWORD})
    assert client.cookies["sessionid"].value != "planted-by-an-attacker"
    assert client.session.session_key != "planted-by-an-attacker"


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post(URL, {"username": "alice", "password": "wrong-password"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_out_after_too_many_failures(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(URL, {"username": "alice", "password": "wrong-password"})
    response = client.post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_lock_other_users(client, alice, charlie, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(URL, {"username": "alice", "password": "wrong-password"})
    response = client.post(URL, {"username": "charlie", "password": PASSWORD})
    assert response.status_code == 302


def test_it_requires_csrf(alice):
    response = Client(enforce_csrf_checks=True).post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403


def test_it_redirects_to_next_after_login(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD, "next": reverse("accounts:password_change")})
    assert response.url == reverse("accounts:password_change")


def test_it_ignores_an_offsite_next(client, alice):
    response = client.post(URL, {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"})
    assert response.url == reverse("home")
