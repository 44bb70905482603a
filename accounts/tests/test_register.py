import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

URL = reverse("accounts:register")
GOOD = {"username": "dana", "email": "Dana@Example.org", "password1": "violet-otter-canyon-42", "password2": "violet-otter-canyon-42"}

pytestmark = pytest.mark.django_db


def test_it_creates_an_account_and_logs_in(client):
    response = client.post(URL, GOOD)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="dana")
    assert user.email == "dana@example.org"
    assert user.check_password(GOOD["password1"])
    assert client.get(reverse("home")).context["user"] == user


def test_it_refuses_a_duplicate_username(client, alice):
    response = client.post(URL, {**GOOD, "username": "ALICE"})
    assert response.status_code == 200
    assert "That username is taken" in response.content.decode()
    assert get_user_model().objects.count() == 1


def test_it_does_not_reveal_that_an_address_has_an_account(client, alice, mailoutbox, django_capture_on_commit_callbacks):
    """The same answer as for a new address; the address's owner is told by mail, not the person registering."""
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post(URL, {**GOOD, "email": "Alice@example.org"})
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = client.post(URL, {**GOOD, "username": "erin", "email": "erin@example.org"})
    assert taken.status_code == fresh.status_code == 302 and taken["Location"] == fresh["Location"]
    assert get_user_model().objects.filter(username="dana", email="alice@example.org").exists()
    assert [message.to for message in mailoutbox] == [["alice@example.org"]]
    assert "alice" not in mailoutbox[0].body  # no username in it either


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "dana@example.org"])
def test_it_refuses_weak_passwords(client, password):
    response = client.post(URL, {**GOOD, "password1": password, "password2": password})
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="dana").exists()


def test_it_refuses_mismatched_passwords(client):
    response = client.post(URL, {**GOOD, "password2": "something-else-entirely"})
    assert response.status_code == 200
    assert not get_user_model().objects.exists()


def test_it_requires_csrf(alice):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(URL, GOOD)
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="dana").exists()


def test_closed_registration_shows_no_form_and_creates_nothing(client, settings):
    settings.NEUROSCAN_REGISTRATION = "closed"
    page = client.get(URL)
    assert page.status_code == 403
    assert "Ask your administrator for an account" in page.content.decode()
    assert client.post(URL, GOOD).status_code == 403
    assert not get_user_model().objects.filter(username="dana").exists()
    assert "Create an account" not in client.get(reverse("accounts:login")).content.decode()


def test_approval_registration_creates_an_inactive_account_that_cannot_log_in(client, settings):
    settings.NEUROSCAN_REGISTRATION = "approval"
    assert "An administrator approves new accounts" in client.get(URL).content.decode()
    response = client.post(URL, GOOD, follow=True)
    assert "waiting for an administrator" in response.content.decode()
    user = get_user_model().objects.get(username="dana")
    assert not user.is_active
    login = {"username": "dana", "password": GOOD["password1"]}
    assert client.post(reverse("accounts:login"), login).status_code == 200  # the form again: refused
    user.is_active = True
    user.save()
    assert client.post(reverse("accounts:login"), login).status_code == 302
