from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import AuditEvent


class Command(BaseCommand):
    help = "Remove audit events older than AUDIT_RETENTION_DAYS (export them first with audit_export)."

    def handle(self, *args, **options) -> None:
        cutoff = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        count = AuditEvent.objects.expire_before(cutoff)
        self.stdout.write(f"Removed {count} audit events older than {cutoff:%Y-%m-%d}.")
