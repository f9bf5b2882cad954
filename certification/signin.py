"""Sign-in by a 6-digit SMS code, for pensioners (ID number) and relatives (phone).

Nothing is given away (DESIGN §7, issue 13 items 1 and 2):
- every ID number gets the same answer with the same work: known, unknown, deceased,
  or asked again within 60 s. The request only checks the limits, inserts a *pending*
  code row and publishes one task; the worker (`sms_code_deliver`) decides whether the
  ID has a phone to send to. For an unknown ID (or one with no phone) the row stays a
  decoy (no phone, a hash nothing matches), so the per-ID limits and the lock-out after
  wrong codes behave identically for it. A person recorded as deceased gets a code to
  the phone on file: their page is where they say "I am alive" (issue 10);
- the code goes out through the notifications outbox (sign-in codes skip the quiet
  hours), so neither the roster look-up nor the SMS gateway's latency is in the answer;
- limits: per ID number (SMS_CODE_SENDS_PER_HOUR codes, SMS_CODE_MAX_ATTEMPTS tries per
  code, a lock after SIGNIN_LOCK_AFTER_FAILURES wrong codes in SIGNIN_LOCK_WINDOW_HOURS),
  per client address, and overall (SignInEvent rows).

Only an HMAC of the code is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from notifications.services import outbox_enqueue

from . import names
from .accounts.models import SignInEvent
from .models import Pensioner, Role, SmsCode, User

SIGNIN_TEMPLATE = "signin_code"
# Hashes no code can have: a row the worker has not looked at yet, and the decoy row of
# an ID number that gets no SMS.
PENDING_HASH = "?"
DECOY_HASH = "-"


class SignInError(Exception):
    """A message safe to show the person."""


def _hash(code: str, subject: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()


def _wrong_codes(*, subject: str, purpose: str, now: dt.datetime) -> int:
    """Wrong codes entered for this subject within the lock window (every try but a success)."""
    agg = SmsCode.objects.filter(
        subject=subject, purpose=purpose,
        created_at__gte=now - dt.timedelta(hours=settings.SIGNIN_LOCK_WINDOW_HOURS),
    ).aggregate(tries=Sum("attempts"), ok=Count("used_at"))
    return (agg["tries"] or 0) - agg["ok"]


def subject_locked(*, subject: str, purpose: str, now: dt.datetime | None = None) -> bool:
    return _wrong_codes(subject=subject, purpose=purpose, now=now or timezone.now()) >= settings.SIGNIN_LOCK_AFTER_FAILURES


LOCKED_MESSAGE = gettext_noop("验证码输错次数太多，暂时不能用短信登录。请 24 小时后再试，或到街道社保窗口办理，咨询电话 12333")


def _address_or_none(client_address: str) -> str | None:
    return client_address or None


def _event_limit(*, kind: str, client_address: str, per_address_hour: int, now: dt.datetime) -> None:
    """Record one event; raise when this address (last hour) or everyone (last minute, code
    requests only) is over the limit. These limits do not depend on the ID number asked for."""
    address = _address_or_none(client_address)
    if address is not None and SignInEvent.objects.filter(
        kind=kind, client_address=address, created_at__gte=now - dt.timedelta(hours=1)
    ).count() >= per_address_hour:
        raise SignInError(_("这台设备请求太频繁，请一小时后再试，或拨打 12333"))
    if kind == SignInEvent.Kind.CODE_REQUEST and SignInEvent.objects.filter(
        kind=kind, created_at__gte=now - dt.timedelta(minutes=1)
    ).count() >= settings.SIGNIN_CODES_PER_MINUTE:
        raise SignInError(_("现在登录的人很多，请一分钟后再试"))
    SignInEvent.objects.create(kind=kind, client_address=address, created_at=now)


@transaction.atomic
def sms_code_issue(*, subject: str, purpose: str, client_address: str = "") -> None:
    """Insert a pending code row for `subject`; a worker delivers it (sms_code_deliver).

    Raises SignInError only for limits that every subject meets the same way. A repeat
    within 60 s of the last code silently keeps that code (the same answer as a send).
    """
    now = timezone.now()
    _event_limit(kind=SignInEvent.Kind.CODE_REQUEST, client_address=client_address,
                 per_address_hour=settings.SIGNIN_CODES_PER_ADDRESS_PER_HOUR, now=now)
    if subject_locked(subject=subject, purpose=purpose, now=now):
        raise SignInError(_(LOCKED_MESSAGE))
    recent = SmsCode.objects.filter(subject=subject, purpose=purpose, created_at__gte=now - dt.timedelta(hours=1))
    if recent.count() >= settings.SMS_CODE_SENDS_PER_HOUR:
        raise SignInError(_("验证码发送太频繁，请一小时后再试"))
    if recent.filter(created_at__gte=now - dt.timedelta(seconds=60)).exists():
        return
    row = SmsCode.objects.create(
        phone="", purpose=purpose, subject=subject, code_hash=PENDING_HASH,
        expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    transaction.on_commit(lambda: _dispatch(row.pk))


def _dispatch(sms_code_id: int) -> None:
    """One publish attempt, as for the outbox. With the broker gone the code is delivered
    here instead: slower, but the person still gets it (an outage is not an oracle worth
    keeping people out for)."""
    from .accounts.tasks import signin_code_deliver_task

    try:
        signin_code_deliver_task.apply_async((sms_code_id,), retry=False)
    except Exception:  # noqa: BLE001 - any broker error
        sms_code_deliver(sms_code_id=sms_code_id)


def _recipient(row: SmsCode) -> tuple[str, int | None]:
    """The phone a code for this row goes to, or "" (unknown ID, or no phone: a decoy)."""
    if row.purpose == "relative":
        return row.subject, None
    # A person recorded as deceased gets a code too: 被死亡 happens, and their page is where
    # they file "I am alive" (issue 10; DESIGN §5 "never left at a dead end"). The answer to
    # the request is the same either way (DESIGN §7), and "certify me" stays closed to them.
    p = Pensioner.objects.filter(id_number=row.subject).only("pk", "phone").first()
    if p is None or not p.phone:
        return "", None
    return p.phone, p.pk


@transaction.atomic
def sms_code_deliver(*, sms_code_id: int) -> bool:
    """The worker's part: look the subject up, and for a real recipient set the code and
    queue its SMS in the outbox. True when an SMS was queued. Safe to repeat."""
    row = SmsCode.objects.select_for_update().filter(pk=sms_code_id, code_hash=PENDING_HASH).first()
    if row is None:
        return False
    phone, pensioner_id = _recipient(row)
    if not phone:
        SmsCode.objects.filter(pk=row.pk).update(code_hash=DECOY_HASH)
        return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.filter(pk=row.pk).update(code_hash=_hash(code, row.subject), phone=phone)
    outbox_enqueue(
        phone=phone, template=SIGNIN_TEMPLATE, pensioner_id=pensioner_id, dedup_key=f"signin-code:{row.pk}",
        context={"code": code, "minutes": settings.SMS_CODE_TTL_SECONDS // 60},
    )
    return True


def sms_codes_pending() -> list[int]:
    """Rows no worker has delivered yet (oldest first): a lost task, or a test doing the worker's part."""
    return list(SmsCode.objects.filter(code_hash=PENDING_HASH).order_by("pk").values_list("pk", flat=True))


def sms_code_verify(*, subject: str, purpose: str, code: str, client_address: str = "") -> bool:
    """True once for the right, unexpired code; every try counts against the limits.

    Raises SignInError when the subject is locked or the address has guessed too often.
    """
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        _event_limit(kind=SignInEvent.Kind.CODE_GUESS, client_address=client_address,
                     per_address_hour=settings.SIGNIN_GUESSES_PER_ADDRESS_PER_HOUR, now=now)
    if subject_locked(subject=subject, purpose=purpose, now=now):
        raise SignInError(_(LOCKED_MESSAGE))
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


def pensioner_code_request(*, id_number: str, client_address: str = "") -> None:
    """A code to the phone on file. The roster is not read here: the worker reads it, and an
    unknown ID gets a decoy (same answer, same work, no SMS)."""
    sms_code_issue(subject=id_number, purpose="pensioner", client_address=client_address)


def pensioner_sign_in(*, id_number: str, code: str, client_address: str = "") -> User:
    # Verify outside the account transaction: a failed try must still count.
    if not sms_code_verify(subject=id_number, purpose="pensioner", code=code, client_address=client_address):
        raise SignInError(_("验证码不正确或已过期，请重新获取"))
    return _pensioner_account(id_number)


@transaction.atomic
def _pensioner_account(id_number: str) -> User:
    p = Pensioner.objects.filter(id_number=id_number).first()
    if p is None:  # left the roster between the code and its use
        raise SignInError(_("验证码不正确或已过期，请重新获取"))
    user, _created = User.objects.get_or_create(
        pensioner=p, defaults={"username": f"p{p.id_number}", "role": Role.PENSIONER, "first_name": p.name}
    )
    if user.role != Role.PENSIONER:
        raise SignInError(_("该账号不能用验证码登录"))
    user.set_unusable_password()
    user.phone = p.phone
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["password", "phone", "phone_verified_at"])
    return user


def relative_code_request(*, phone: str, client_address: str = "") -> None:
    sms_code_issue(subject=phone, purpose="relative", client_address=client_address)


def relative_sign_in(*, phone: str, code: str, name: str = "", client_address: str = "") -> User:
    """A relative's account is their verified phone; it is created on first sign-in."""
    if not sms_code_verify(subject=phone, purpose="relative", code=code, client_address=client_address):
        raise SignInError(_("验证码不正确或已过期，请重新获取"))
    return _relative_account(phone, name)


@transaction.atomic
def _relative_account(phone: str, name: str) -> User:
    user = User.objects.filter(phone=phone, role=Role.RELATIVE).first()
    if user is None:
        if User.objects.filter(username=f"r{phone}").exists():
            raise SignInError(_("该手机号不能用于亲属账号"))
        # Only a plain name is kept: it is quoted in the official SMS to the pensioner (issue 13).
        user = User(username=f"r{phone}", role=Role.RELATIVE, phone=phone,
                    first_name=names.normalize(name) if names.is_valid(name) else "")
        user.set_unusable_password()
    user.phone_verified_at = timezone.now()
    user.save()
    return user
