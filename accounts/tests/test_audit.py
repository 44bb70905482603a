import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditAction, AuditOutcome, audit_record
from accounts.models import AuditEvent
from neuroscan.append_only import AppendOnlyError
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def _events(action):
    return list(AuditEvent.objects.filter(action=action))


def test_a_login_is_recorded_once_with_actor_ip_and_agent(client, alice):
    client.post(LOGIN, {"username": "alice", "password": PASSWORD}, HTTP_USER_AGENT="TestBrowser/1.0")
    [event] = _events(AuditAction.LOGIN)
    assert event.actor == alice and event.actor_username == "alice"
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "TestBrowser/1.0"
    assert event.outcome == AuditOutcome.SUCCESS


def test_a_failed_login_is_recorded_once_without_an_actor(client, alice):
    client.post(LOGIN, {"username": "alice", "password": "wrong"})
    [event] = _events(AuditAction.LOGIN_FAILED)
    assert event.actor is None and event.actor_username == "alice"
    assert event.outcome == AuditOutcome.FAILURE


def test_a_lockout_is_recorded_once(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        client.post(LOGIN, {"username": "alice", "password": "wrong"})
    [event] = _events(AuditAction.LOCKOUT)
    assert event.actor_username == "alice" and event.outcome == AuditOutcome.DENIED


def test_a_logout_is_recorded_once(client, alice):
    client.force_login(alice)
    client.post(reverse("accounts:logout"))
    [event] = _events(AuditAction.LOGOUT)
    assert event.actor == alice


def test_a_user_agent_is_truncated(rf, alice):
    request = rf.get("/", HTTP_USER_AGENT="x" * 1000)
    event = audit_record(action=AuditAction.LOGIN, actor=alice, request=request)
    assert len(event.user_agent) == 256


def test_events_cannot_be_changed_or_deleted(alice):
    event = audit_record(action=AuditAction.LOGIN, actor=alice)
    event.outcome = AuditOutcome.DENIED
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(outcome=AuditOutcome.DENIED)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.outcome == AuditOutcome.SUCCESS


@pytest.fixture
def admin_client_user(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(admin)
    return client, admin


def test_the_admin_shows_events_but_cannot_change_or_delete_them(admin_client_user, alice):
    client, _ = admin_client_user
    event = audit_record(action=AuditAction.LOGIN, actor=alice)
    changelist = client.get(reverse("admin:accounts_auditevent_changelist"))
    assert changelist.status_code == 200 and "alice" in changelist.content.decode()
    change_url = reverse("admin:accounts_auditevent_change", args=[event.pk])
    response = client.post(change_url, {"outcome": "denied"})
    assert response.status_code == 403
    response = client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    event.refresh_from_db()
    assert event.outcome == AuditOutcome.SUCCESS


def test_an_admin_change_is_recorded_once(admin_client_user, alice):
    client, admin = admin_client_user
    reviewers = Group.objects.get(name="reviewers")
    response = client.post(
        reverse("admin:auth_group_change", args=[reviewers.pk]), {"name": "reviewers", "permissions": []}
    )
    assert response.status_code == 302
    [event] = _events(AuditAction.ADMIN_CHANGE)
    assert event.actor == admin
    assert (event.object_type, event.object_id) == ("group", str(reviewers.pk))


def test_the_security_page_shows_only_my_own_events(client, alice, charlie):
    client.post(LOGIN, {"username": "charlie", "password": "wrong"})
    audit_record(action=AuditAction.LOGIN, actor=charlie, object_type="user", object_id=charlie.pk)
    client.force_login(alice)
    page = client.get(reverse("accounts:security")).content.decode()
    assert "charlie" not in page
    client.force_login(charlie)
    page = client.get(reverse("accounts:security")).content.decode()
    assert "Failed login" in page and "Login" in page


def test_export_writes_json_lines_in_time_order(alice):
    audit_record(action=AuditAction.LOGIN, actor=alice)
    audit_record(action=AuditAction.LOGOUT, actor=alice)
    out = StringIO()
    call_command("audit_export", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["action"] for line in lines] == ["login", "logout"]
    assert lines[0]["actor"] == "alice"


def test_export_filters_by_date(alice):
    audit_record(action=AuditAction.LOGIN, actor=alice)
    out = StringIO()
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    call_command("audit_export", "--since", tomorrow, stdout=out)
    assert out.getvalue() == ""


def test_expire_removes_only_events_past_retention(alice, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = audit_record(action=AuditAction.LOGIN, actor=alice)
    recent = audit_record(action=AuditAction.LOGOUT, actor=alice)
    # Age one event, going around the append-only guard as only a test may.
    models.QuerySet.update(AuditEvent.objects.filter(pk=old.pk), created_at=timezone.now() - timedelta(days=31))
    call_command("audit_expire", stdout=StringIO())
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]
