from django.contrib import admin

from accounts.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only, in the admin as everywhere."""

    list_display = ("created_at", "actor_username", "action", "object_type", "object_id", "outcome", "ip_address")
    list_filter = ("action", "outcome", "created_at")
    search_fields = ("actor_username", "object_id", "ip_address")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
