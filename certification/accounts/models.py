"""API tokens (django-rest-knox, hashed and expiring) and sign-in events for the limits."""

from __future__ import annotations

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A knox token (only its SHA-512 digest is stored) bound to the password it was issued under.

    `password_fingerprint` is the user's session auth hash at issue time (an HMAC of
    the password hash). A password change, by any path (page, admin, changepassword),
    changes it, so every older token stops working without a hook on each path.
    """

    password_fingerprint = models.CharField(max_length=128)

    class Meta:
        verbose_name = verbose_name_plural = "API 令牌"


class SignInEvent(models.Model):
    """One SMS-code request or one code guess, with the client address, for the limits.

    Rows rather than cache counters: they hold across web workers without Redis, follow
    the (mocked) clock, and are purged daily (settings CELERY_BEAT_SCHEDULE).
    """

    class Kind(models.TextChoices):
        CODE_REQUEST = "code_request", "申请验证码"
        CODE_GUESS = "code_guess", "输入验证码"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "登录事件"
        indexes = [
            # Per-address limit: one address's events in the last hour.
            models.Index(fields=["kind", "client_address", "created_at"], name="signin_event_addr_idx"),
            # Overall limit: everyone's events in the last minute.
            models.Index(fields=["kind", "created_at"], name="signin_event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_address} {self.created_at:%Y-%m-%d %H:%M:%S}"
