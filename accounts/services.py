"""Account writes. Views validate input with forms, then call these."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> AbstractUser:
    """Create an active clinician account. The password must already be validated."""
    user = get_user_model()(username=username, email=email.strip().lower())
    user.set_password(password)
    user.full_clean()
    user.save()
    return user
