"""API token writes. Each runs in one transaction with its audit row."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from accounts.audit import AuditAction, audit_record


def _audit_created(token: Token, request: HttpRequest | None) -> None:
    audit_record(action=AuditAction.TOKEN_CREATED, actor=token.user, request=request, object_type="user", object_id=token.user.pk)


@transaction.atomic
def token_get_or_create(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> tuple[Token, bool]:
    """The user's API token, created (and audited) if they have none; idempotent."""
    token, created = Token.objects.get_or_create(user=user)
    if created:
        _audit_created(token, request)
    return token, created


@transaction.atomic
def token_replace(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> Token:
    """A new API token for the user; the old one, if any, stops working at once."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    _audit_created(token, request)
    return token


@transaction.atomic
def token_revoke(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> bool:
    """Delete the user's API token, audited; False (and no event) if they had none."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        audit_record(action=AuditAction.TOKEN_REVOKED, actor=user, request=request, object_type="user", object_id=user.pk)
    return bool(deleted)
