import pytest
from django.contrib.auth.models import Group

from accounts.roles import REVIEWERS_GROUP, is_reviewer

pytestmark = pytest.mark.django_db


def test_the_reviewers_group_exists_after_migrations():
    assert Group.objects.filter(name=REVIEWERS_GROUP).exists()


def test_only_group_members_are_reviewers(alice, bob):
    assert is_reviewer(bob)
    assert not is_reviewer(alice)
