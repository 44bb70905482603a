"""API token writes. Each runs in one transaction with its audit row.

A key is made from 32 random bytes, shown once, and stored only as its SHA-256 (a fast hash is
right here: the key is random and long, not a password to guess).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import AuditAction, audit_record
from api.models import ApiToken

# last_used_at is written at most this often per token: not one database write per API call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _audit_created(token: ApiToken, request: HttpRequest | None) -> None:
    audit_record(action=AuditAction.TOKEN_CREATED, actor=token.user, request=request, object_type="user", object_id=token.user.pk)


def _new_token(user: AbstractBaseUser) -> tuple[ApiToken, str]:
    key = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        key_hash=token_hash(key),
        prefix=key[:8],
        password_fingerprint=user.get_session_auth_hash(),
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def token_create(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> tuple[ApiToken, str]:
    """A new token for the user besides any they have (a script logging in); returns it and its key, shown once."""
    token, key = _new_token(user)
    _audit_created(token, request)
    return token, key


@transaction.atomic
def token_replace(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> tuple[ApiToken, str]:
    """One new token for the user; every earlier one stops working at once."""
    ApiToken.objects.filter(user=user).delete()
    return token_create(user=user, request=request)


@transaction.atomic
def token_revoke(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> bool:
    """Delete all the user's API tokens, audited; False (and no event) if they had none."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    if deleted:
        audit_record(action=AuditAction.TOKEN_REVOKED, actor=user, request=request, object_type="user", object_id=user.pk)
    return bool(deleted)


def token_mark_used(*, token: ApiToken) -> None:
    """Record when a token was last used (to the minute), for the token page."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def tokens_for_user(*, user: AbstractBaseUser):
    """The user's tokens, newest first (a selector: the token page reads it)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")
