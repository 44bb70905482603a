"""`Authorization: Token <key>`, checked against hashed, expiring tokens (api.models.ApiToken)."""

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from api.models import ApiToken
from api.services import token_hash, token_mark_used


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's header parsing, with the lookup by hash; an expired or pre-password-change token is refused."""

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid token.")
        if token.password_fingerprint != token.user.get_session_auth_hash():
            raise AuthenticationFailed("This token was revoked by a password change: create a new one on the API token page.")
        if token.expires_at <= timezone.now():
            raise AuthenticationFailed("This token has expired: create a new one on the API token page.")
        token_mark_used(token=token)
        return token.user, token
