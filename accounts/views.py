from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.core.paginator import Paginator
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import RegistrationForm
from accounts.models import AuditEvent
from accounts.services import user_register


@login_not_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    mode = settings.NEUROSCAN_REGISTRATION
    if mode == "closed":
        # Accounts are made by an administrator; the form is not even shown.
        return render(request, "accounts/register_closed.html", status=403)
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_register(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            active=mode == "open",
        )
        if not user.is_active:
            messages.info(request, "Your account was created and is waiting for an administrator's approval. "
                                   "You can log in once it is approved.")  # fmt: skip
            return redirect("accounts:login")
        # login() rotates the session key, so a planted session id is useless.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Your account is ready.")
        return redirect("home")
    return render(request, "accounts/register.html", {"form": form, "needs_approval": mode == "approval"})


@require_GET
def security(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own account events: log-ins, failed attempts, downloads."""
    events = AuditEvent.objects.filter(actor=request.user) | AuditEvent.objects.filter(
        actor=None, actor_username=request.user.get_username()
    )
    page = Paginator(events.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "accounts/security.html", {"page": page})


_NEW_TOKEN_SESSION_KEY = "api_token_shown_once"


@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    """Create, replace or revoke the user's REST API tokens.

    POST-redirect-GET: a new key waits in the session for the one GET that follows and is shown
    there once, so reloading the page never replaces the token just copied.
    """
    from api.services import token_replace, token_revoke, tokens_for_user

    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            _token, key = token_replace(user=request.user, request=request)
            request.session[_NEW_TOKEN_SESSION_KEY] = key  # read and removed by the GET that follows
            messages.success(request, "A new API token was created. Any earlier token no longer works.")
        elif action == "revoke":
            request.session.pop(_NEW_TOKEN_SESSION_KEY, None)  # a revoked key is never shown
            if token_revoke(user=request.user, request=request):
                messages.success(request, "Your API token was revoked: scripts that use it are refused from now on.")
        return redirect("accounts:api_token")
    new_key = request.session.pop(_NEW_TOKEN_SESSION_KEY, None)
    tokens = list(tokens_for_user(user=request.user))
    return render(request, "accounts/api_token.html", {"token": tokens[0] if tokens else None, "tokens": tokens, "new_key": new_key})


def mail_goes_to_console() -> bool:
    """The embedded default: mail is printed in the portal's terminal, not sent."""
    return settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "mail_to_console": mail_goes_to_console()}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "mail_to_console": mail_goes_to_console()}


def _revoke_api_tokens(request: HttpRequest, user) -> None:
    from api.services import token_revoke

    if token_revoke(user=user, request=request):
        messages.info(request, "Your API tokens were revoked with the old password: create a new one on the API token page.")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view; a new password also ends every API token made with the old one."""

    def form_valid(self, form):
        response = super().form_valid(form)
        _revoke_api_tokens(self.request, form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; a reset password also ends every API token (whoever had them)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        _revoke_api_tokens(self.request, form.user)
        return response


class LogoutView(auth_views.LogoutView):
    """Django's POST-only logout, saying so on the page it lands on."""

    def post(self, request, *args, **kwargs):
        was_logged_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_logged_in:
            messages.info(request, "You have been logged out.")
        return response
