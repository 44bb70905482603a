"""Roles: every user is a clinician; members of the reviewers group may review others' scans."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

REVIEWERS_GROUP = "reviewers"


def is_reviewer(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and user.groups.filter(name=REVIEWERS_GROUP).exists()
