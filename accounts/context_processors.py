from django.conf import settings
from django.http import HttpRequest

from accounts.roles import is_reviewer


def roles(request: HttpRequest) -> dict:
    # Lazy: the group query runs only when a template asks.
    return {
        "user_is_reviewer": lambda: is_reviewer(request.user),
        "registration_open": settings.NEUROSCAN_REGISTRATION != "closed",
    }
