import pytest
from django.urls import reverse

URL = reverse("accounts:logout")

pytestmark = pytest.mark.django_db


def test_it_logs_out_on_post(client, alice):
    client.force_login(alice)
    response = client.post(URL)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_rejects_get(client, alice):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_it_says_you_have_been_logged_out(client, alice):
    client.force_login(alice)
    page = client.post(URL, follow=True).content.decode()
    assert "You have been logged out." in page
