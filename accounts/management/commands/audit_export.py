import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import AuditEvent


def _moment(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"Not an ISO date or date-time: {value!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Write audit events as JSON lines (oldest first) to stdout."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=_moment, help="ISO date or date-time, inclusive")
        parser.add_argument("--until", type=_moment, help="ISO date or date-time, exclusive")

    def handle(self, *args, since=None, until=None, **options) -> None:
        events = AuditEvent.objects.order_by("created_at", "id")
        if since:
            events = events.filter(created_at__gte=since)
        if until:
            events = events.filter(created_at__lt=until)
        for event in events.iterator():
            self.stdout.write(json.dumps(event_as_dict(event), sort_keys=True))


def event_as_dict(event: AuditEvent) -> dict:
    return {
        "time": event.created_at.isoformat(),
        "actor": event.actor_username,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip": event.ip_address,
        "user_agent": event.user_agent,
        "outcome": event.outcome,
    }
