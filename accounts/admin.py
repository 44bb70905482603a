from django.contrib import admin

from accounts.models import AuditEvent
from neuroscan.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is append-only, in the admin as everywhere."""

    list_display = ("created_at", "actor_username", "action", "object_type", "object_id", "outcome", "ip_address")
    list_filter = ("action", "outcome", "created_at")
    search_fields = ("actor_username", "object_id", "ip_address")
    date_hierarchy = "created_at"
