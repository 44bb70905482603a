"""Lockout: per address (django-axes), an account-wide ceiling across addresses, and the client address behind a proxy."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.audit import AuditAction
from accounts.client_ip import client_ip
from accounts.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
URL = reverse("accounts:login")


def _fail_from(ip: str, times: int, username: str = "alice") -> None:
    client = Client(REMOTE_ADDR=ip)
    for _ in range(times):
        client.post(URL, {"username": username, "password": "wrong"})


def test_guesses_spread_over_many_addresses_lock_the_account(settings, alice):
    settings.AXES_FAILURE_LIMIT, settings.AXES_ACCOUNT_FAILURE_LIMIT = 5, 12
    for n in range(4):  # 4 addresses x 3 failures: no single address reaches 5
        _fail_from(f"198.51.100.{n}", 3)
    response = Client(REMOTE_ADDR="203.0.113.9").post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429  # the right password, from a fresh address, is refused
    assert "_auth_user_id" not in response.client.session


def test_below_the_ceiling_the_owner_still_logs_in(settings, alice):
    settings.AXES_FAILURE_LIMIT, settings.AXES_ACCOUNT_FAILURE_LIMIT = 5, 12
    for n in range(2):
        _fail_from(f"198.51.100.{n}", 4)  # 8 of 12
    response = Client(REMOTE_ADDR="203.0.113.9").post(URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def test_the_ceiling_locks_the_api_token_login_too(settings, alice):
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 3
    for n in range(3):
        _fail_from(f"198.51.100.{n}", 1)
    response = Client(REMOTE_ADDR="203.0.113.9").post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                                                      content_type="application/json")  # fmt: skip
    assert response.status_code == 429 and "locked" in response.json()["error"]


def test_another_account_is_not_affected(settings, alice, bob):
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 3
    _fail_from("198.51.100.1", 3, username="alice")
    assert Client(REMOTE_ADDR="198.51.100.7").post(URL, {"username": "bob", "password": PASSWORD}).status_code == 302


# --- The client address --------------------------------------------------------------------------


class _Request:
    def __init__(self, **meta) -> None:
        self.META = meta


def test_without_a_trusted_proxy_the_address_is_remote_addr(settings):
    settings.TRUSTED_PROXY_HEADER = ""
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "10.0.0.2"


def test_behind_a_trusted_proxy_the_address_is_what_the_proxy_saw(settings):
    settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_COUNT = "X-Forwarded-For", 1
    # The client sent a forged first entry; the proxy appended the real peer.
    request = _Request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23")
    assert client_ip(request) == "198.51.100.23"
    settings.TRUSTED_PROXY_COUNT = 2  # two proxies of ours: the entry the outer one wrote
    assert client_ip(_Request(HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23, 10.0.0.5")) == "198.51.100.23"
    assert client_ip(_Request(REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"  # no header: not through the proxy


def test_behind_a_proxy_one_address_cannot_lock_out_everyone(settings, alice, bob):
    """All requests arrive from the proxy's address; the lockout counts the real clients'."""
    settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_COUNT = "X-Forwarded-For", 1
    settings.AXES_FAILURE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(3):
        attacker.post(URL, {"username": "alice", "password": "wrong"})
    assert attacker.post(URL, {"username": "alice", "password": PASSWORD}).status_code == 429
    owner = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.23")
    assert owner.post(URL, {"username": "alice", "password": PASSWORD}).status_code == 302
    event = AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=alice).latest("created_at")
    assert event.ip_address == "198.51.100.23"
