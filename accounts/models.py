from django.conf import settings
from django.db import models

from accounts.audit import USER_AGENT_MAX_LENGTH, AuditAction, AuditOutcome
from neuroscan.append_only import AppendOnlyModel, AppendOnlyQuerySet


class AuditEventQuerySet(AppendOnlyQuerySet):
    def expire_before(self, cutoff) -> int:
        """Remove events older than the retention period: the one sanctioned removal."""
        expired = self.filter(created_at__lt=cutoff)
        count, _ = models.QuerySet.delete(expired)
        return count


class AuditEvent(AppendOnlyModel):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # SET_NULL keeps the event if an account is ever removed; actor_username keeps the name.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    outcome = models.CharField(max_length=16, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-created_at"], name="audit_actor_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.outcome}"
