"""An account-wide ceiling on failed log-ins, whatever the addresses they come from.

django-axes locks a username + IP pair after AXES_FAILURE_LIMIT failures; someone spreading
guesses over many addresses would never meet it. This backend, placed right after axes', counts
the account's failures across all addresses within the cool-off and refuses at
AXES_ACCOUNT_FAILURE_LIMIT (higher than the per-address limit, so that one attacker's address
locks itself out long before it can lock out the account's owner).
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.utils import timezone


def account_failures(username: str) -> int:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(n=Sum("failures_since_start"))
    return int(total["n"] or 0)


class AccountCeilingBackend:
    """Authenticates no one; refuses (as a lockout) a username over its account-wide failure ceiling."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username:
            return None
        if account_failures(username) >= settings.AXES_ACCOUNT_FAILURE_LIMIT:
            request.axes_locked_out = True  # the login page's middleware and the API answer it as a lockout
            raise PermissionDenied("Too many failed attempts for this account.")
        return None

    # No get_user(): it never logs anyone in, so no session names it (and force_login skips it).
