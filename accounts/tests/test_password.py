import re

import pytest
from django.core import mail
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "amber-falcon-harbour-97"


def test_password_change_needs_the_old_password(client, alice):
    client.force_login(alice)
    url = reverse("accounts:password_change")
    response = client.post(url, {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200
    response = client.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_password_reset_sends_a_link_that_sets_a_new_password(client, alice):
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_password_reset_does_not_reveal_unknown_addresses(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_says_mail_goes_to_the_console_in_embedded_mode(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert 'data-testid="console-mail"' in client.get(reverse("accounts:password_reset")).content.decode()
    assert 'data-testid="console-mail"' in client.get(reverse("accounts:password_reset_done")).content.decode()


def test_password_reset_has_no_console_hint_when_mail_is_sent(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert "console-mail" not in client.get(reverse("accounts:password_reset")).content.decode()


def test_a_password_change_revokes_the_api_tokens(client, alice, bob):
    from api.models import ApiToken
    from api.services import token_create

    token_create(user=alice)
    token_create(user=bob)
    client.force_login(alice)
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})  # fmt: skip
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=alice).exists() and ApiToken.objects.filter(user=bob).exists()


def test_a_password_reset_revokes_the_api_tokens(client, alice):
    from api.models import ApiToken
    from api.services import token_create

    token_create(user=alice)
    client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=alice).exists()
