"""Sign-in by a 6-digit SMS code, for pensioners (ID number) and relatives (phone).

Only an HMAC of the code is stored. A code expires (SMS_CODE_TTL_SECONDS), allows
SMS_CODE_MAX_ATTEMPTS tries, and sending is rate-limited per subject. Answers never
reveal whether an ID number exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.transports import TransportError, get_transport

from .models import Pensioner, Role, SmsCode, User
from .rules import Status


class SignInError(Exception):
    """A message safe to show the person."""


def _hash(code: str, subject: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeSent:
    masked_phone: str


def sms_code_issue(*, subject: str, purpose: str, phone: str) -> None:
    """Create and send a code. Raises SignInError when rate-limited."""
    now = timezone.now()
    recent = SmsCode.objects.filter(subject=subject, purpose=purpose, created_at__gte=now - dt.timedelta(hours=1))
    if recent.count() >= settings.SMS_CODE_SENDS_PER_HOUR:
        raise SignInError(_("验证码发送太频繁，请一小时后再试"))
    if recent.filter(created_at__gte=now - dt.timedelta(seconds=60)).exists():
        raise SignInError(_("验证码已发送，请等待 60 秒后再重新获取"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        phone=phone, purpose=purpose, subject=subject, code_hash=_hash(code, subject),
        expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    try:
        get_transport().notify(phone=phone, text=f"【青岛社保】您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。")
    except TransportError:
        raise SignInError(_("短信发送失败，请稍后再试，或拨打 12333")) from None


def sms_code_verify(*, subject: str, purpose: str, code: str) -> bool:
    """True once for the right, unexpired code; every try counts against the limit."""
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(subject=subject, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            return False
        SmsCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        if not (len(code) == 6 and code.isdigit() and hmac.compare_digest(row.code_hash, _hash(code, subject))):
            return False
        SmsCode.objects.filter(pk=row.pk).update(used_at=now)
        return True


def pensioner_code_request(*, id_number: str) -> None:
    """Send a code to the phone on file. Unknown or deceased IDs send nothing, silently."""
    p = Pensioner.objects.filter(id_number=id_number).exclude(status=Status.DECEASED).first()
    if p is None or not p.phone:
        # Same answer as success: the form must not reveal who is on the roster.
        return
    sms_code_issue(subject=id_number, purpose="pensioner", phone=p.phone)


def pensioner_sign_in(*, id_number: str, code: str) -> User:
    # Verify outside the account transaction: a failed try must still count.
    if not sms_code_verify(subject=id_number, purpose="pensioner", code=code):
        raise SignInError(_("验证码不正确或已过期，请重新获取"))
    return _pensioner_account(id_number)


@transaction.atomic
def _pensioner_account(id_number: str) -> User:
    p = Pensioner.objects.exclude(status=Status.DECEASED).get(id_number=id_number)
    user, _ = User.objects.get_or_create(
        pensioner=p, defaults={"username": f"p{p.id_number}", "role": Role.PENSIONER, "first_name": p.name}
    )
    if user.role != Role.PENSIONER:
        raise SignInError(_("该账号不能用验证码登录"))
    user.set_unusable_password()
    user.phone = p.phone
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["password", "phone", "phone_verified_at"])
    return user


def relative_code_request(*, phone: str) -> None:
    sms_code_issue(subject=phone, purpose="relative", phone=phone)


def relative_sign_in(*, phone: str, code: str, name: str = "") -> User:
    """A relative's account is their verified phone; it is created on first sign-in."""
    if not sms_code_verify(subject=phone, purpose="relative", code=code):
        raise SignInError(_("验证码不正确或已过期，请重新获取"))
    return _relative_account(phone, name)


@transaction.atomic
def _relative_account(phone: str, name: str) -> User:
    user = User.objects.filter(phone=phone, role=Role.RELATIVE).first()
    if user is None:
        if User.objects.filter(username=f"r{phone}").exists():
            raise SignInError(_("该手机号不能用于亲属账号"))
        user = User(username=f"r{phone}", role=Role.RELATIVE, phone=phone, first_name=name[:150])
        user.set_unusable_password()
    user.phone_verified_at = timezone.now()
    user.save()
    return user
