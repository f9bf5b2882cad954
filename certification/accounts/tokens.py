"""API tokens: django-rest-knox (hashed, expiring), revoked when the password changes."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework import exceptions

from .models import ApiToken


@transaction.atomic
def api_token_issue(*, user) -> str:  # type: ignore[no-untyped-def]
    """A new token for `user`, valid API_TOKEN_TTL_HOURS, tied to the current password.

    Expired tokens are dropped, and beyond TOKEN_LIMIT_PER_USER the oldest go first.
    """
    ApiToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    keep = settings.REST_KNOX["TOKEN_LIMIT_PER_USER"] - 1
    old = list(ApiToken.objects.filter(user=user).order_by("-created").values_list("digest", flat=True)[keep:])
    if old:
        ApiToken.objects.filter(digest__in=old).delete()
    _, token = ApiToken.objects.create(
        user=user, expiry=settings.REST_KNOX["TOKEN_TTL"],
        password_fingerprint=user.get_session_auth_hash(),
    )
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …`. knox deletes expired tokens; this also refuses (and deletes)
    tokens issued before the user's current password."""

    def validate_user(self, auth_token: ApiToken):  # type: ignore[no-untyped-def,override]
        user = auth_token.user
        if not hmac.compare_digest(auth_token.password_fingerprint, user.get_session_auth_hash()):
            ApiToken.objects.filter(user=user).exclude(
                password_fingerprint=user.get_session_auth_hash()).delete()
            raise exceptions.AuthenticationFailed("令牌已失效（密码已更改），请重新获取")
        return super().validate_user(auth_token)


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The schema's `tokenAuth`, as it was with DRF tokens: `Authorization: Token …`."""

    target_class = "certification.accounts.tokens.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "令牌：POST /api/v1/auth/token/ 获取，请求头 `Authorization: Token <token>`，有效期 8 小时，改密码即失效"}
