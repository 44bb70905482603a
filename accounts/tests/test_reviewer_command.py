"""manage.py reviewer add|remove|list: the documented way to make a reviewer."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from accounts.roles import is_reviewer

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("reviewer", *args, stdout=out)
    return out.getvalue()


def test_it_adds_a_reviewer_and_audits_it(alice):
    assert "alice is now a reviewer." in run("add", "alice")
    assert is_reviewer(alice)
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGE, object_type="user")
    assert event.object_id == str(alice.pk)


def test_adding_twice_changes_nothing(alice):
    run("add", "alice")
    assert "alice was already a reviewer." in run("add", "alice")
    assert AuditEvent.objects.filter(action=AuditAction.ADMIN_CHANGE).count() == 1


def test_it_removes_a_reviewer(bob):
    assert "bob is no longer a reviewer." in run("remove", "bob")
    assert not is_reviewer(bob)


def test_it_lists_reviewers(alice, bob):
    assert run("list").split() == ["bob"]


def test_an_unknown_name_changes_nothing(alice):
    with pytest.raises(CommandError, match="No such user: nobody"):
        run("add", "alice", "nobody")
    assert not is_reviewer(alice)
    assert not AuditEvent.objects.exists()
