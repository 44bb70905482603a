"""Audit the events that only Django's and django-axes' signals can see."""

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.audit import AuditAction, AuditOutcome, audit_lockout, audit_record


@receiver(user_logged_in, dispatch_uid="audit_login")
def _audit_login(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditAction.LOGIN, actor=user, request=request, object_type="user", object_id=user.pk)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, request=request, object_type="user", object_id=user.pk)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        actor=None,
        request=request,
        username=str(credentials.get("username", "")),
        outcome=AuditOutcome.FAILURE,
    )


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def _audit_lockout(sender, request, username, ip_address, **kwargs) -> None:
    audit_lockout(request=request, username=username or "")


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_change")
def _audit_admin_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if created:
        audit_record(
            action=AuditAction.ADMIN_CHANGE,
            actor=instance.user,
            object_type=instance.content_type.model if instance.content_type else "",
            object_id=instance.object_id or "",
        )
