"""The append-only audit trail: who did what to which object, from where, with what outcome.

Other apps record events with `audit_record(...)` inside the transaction of the action
they audit, so an action and its audit row are committed (or rolled back) together.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from accounts.client_ip import client_ip

USER_AGENT_MAX_LENGTH = 256


class AuditAction(models.TextChoices):
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOCKOUT = "lockout", "Lockout"
    LOGOUT = "logout", "Logout"
    UPLOAD = "upload", "Upload"
    VIEW_RESULT = "view_result", "Result viewed"
    FETCH_IMAGE = "fetch_image", "Image fetched"
    FETCH_HEATMAP = "fetch_heatmap", "Heatmap fetched"
    DOWNLOAD_REPORT = "download_report", "Report downloaded"
    REVIEW = "review", "Review"
    TOKEN_CREATED = "token_created", "API token created"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    ADMIN_CHANGE = "admin_change", "Admin change"
    ACCESS_DENIED = "access_denied", "Access denied"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILURE = "failure", "Failure"


def audit_record(
    *,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str = "",
    outcome: str = AuditOutcome.SUCCESS,
    username: str = "",
):
    """Append one audit event. `username` names the account tried when there is no actor (failed logins)."""
    from accounts.models import AuditEvent

    known_actor = actor if actor is not None and actor.is_authenticated else None
    user_agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    event = AuditEvent(
        action=action,
        actor=known_actor,
        actor_username=known_actor.get_username() if known_actor else username[:150],
        object_type=object_type,
        object_id=str(object_id),
        ip_address=client_ip(request),
        user_agent=user_agent[:USER_AGENT_MAX_LENGTH],
        outcome=outcome,
    )
    event.full_clean()
    event.save()
    return event


def audit_lockout(*, request: HttpRequest | None, username: str):
    """Record a lockout once: django-axes signals it again on every attempt while locked."""
    from accounts.models import AuditEvent

    already = AuditEvent.objects.filter(
        action=AuditAction.LOCKOUT,
        actor_username=username[:150],
        ip_address=client_ip(request),
        created_at__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    )
    if already.exists():
        return None
    return audit_record(
        action=AuditAction.LOCKOUT, actor=None, request=request, username=username, outcome=AuditOutcome.DENIED
    )
