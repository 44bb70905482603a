"""Account writes. Views validate input with forms, then call these."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.mail import send_mail
from django.db import transaction


@transaction.atomic
def user_register(*, username: str, email: str, password: str, active: bool = True) -> AbstractUser:
    """Create a clinician account. The password must already be validated.

    An inactive account (NEUROSCAN_REGISTRATION=approval) cannot log in until an administrator
    ticks "Active" in the admin.
    """
    email = email.strip().lower()
    already_used = get_user_model().objects.filter(email__iexact=email).exists()
    user = get_user_model()(username=username, email=email, is_active=active)
    user.set_password(password)
    user.full_clean()
    user.save()
    if already_used:
        # The page says nothing (it must not reveal which addresses have accounts); the address's owner hears of it.
        transaction.on_commit(lambda: _mail_address_reused(email))
    return user


def _mail_address_reused(email: str) -> None:
    send_mail(
        "NeuroScan: another account was registered with your address",
        "Someone just registered a new NeuroScan account with this email address, which an account of yours "
        "already uses. If it was you, you can ignore this message. If not, tell your administrator; "
        "your own account is unchanged. To sign in to your account, use the login page or reset your password.",
        settings.DEFAULT_FROM_EMAIL,
        [email],
        fail_silently=True,  # a mail server problem must not undo or reveal the registration
    )


@transaction.atomic
def user_set_reviewer(*, user: AbstractUser, reviewer: bool, actor_name: str = "manage.py") -> bool:
    """Put a user in (reviewer=True) or out of the reviewers group. False, changing nothing, if already so.

    Audited as an admin change, in the same transaction.
    """
    from django.contrib.auth.models import Group

    from accounts.audit import AuditAction, audit_record
    from accounts.roles import REVIEWERS_GROUP

    group = Group.objects.get(name=REVIEWERS_GROUP)
    member = user.groups.filter(pk=group.pk).exists()
    if member == reviewer:
        return False
    if reviewer:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    audit_record(action=AuditAction.ADMIN_CHANGE, actor=None, username=actor_name,
                 object_type="user", object_id=user.pk)  # fmt: skip
    return True
