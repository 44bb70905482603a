from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import REVIEWERS_GROUP
from accounts.services import user_set_reviewer


class Command(BaseCommand):
    help = (
        f"Put users in or out of the '{REVIEWERS_GROUP}' group (reviewers may see and review everyone's scans), "
        "or list its members."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=("add", "remove", "list"))
        parser.add_argument("usernames", nargs="*", metavar="username")

    def handle(self, *args, action: str, usernames: list[str], **options) -> None:
        users = get_user_model().objects
        if action == "list":
            if usernames:
                raise CommandError("'list' takes no user names.")
            for name in users.filter(groups__name=REVIEWERS_GROUP).order_by("username").values_list("username", flat=True):
                self.stdout.write(name)
            return
        if not usernames:
            raise CommandError(f"Name at least one user to {action}.")
        found = {user.get_username(): user for user in users.filter(username__in=usernames)}
        missing = [name for name in usernames if name not in found]
        if missing:
            # Nothing changes unless every name is right: a typo must not half-apply a list.
            raise CommandError(f"No such user: {', '.join(missing)}. Nothing was changed.")
        for name in usernames:
            changed = user_set_reviewer(user=found[name], reviewer=action == "add")
            if action == "add":
                self.stdout.write(f"{name} is now a reviewer." if changed else f"{name} was already a reviewer.")
            else:
                self.stdout.write(f"{name} is no longer a reviewer." if changed else f"{name} was not a reviewer.")
