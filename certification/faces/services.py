"""Writes for face certification. Keyword-only, typed, atomic, audited (STYLE §4).

The engine (pure) decides; these functions validate, store and record. The slow
part (the engine) never runs inside a database transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from certification import idnumber, rules
from certification.models import Certification, Method, Pensioner, User
from certification.rules import Status
from certification.services import audit_log, certification_record

from . import engine
from .models import BulkEnrolment, Consent, FaceAttempt, FaceSession, Mode, Reason, ReferenceFace

log = logging.getLogger(__name__)

CONSENT_TEXT_VERSION = "2026-11"

PROMPT_TEXT = {
    "blink": gettext_noop("请眨眨眼"),
    "turn_left": gettext_noop("请慢慢向左转头"),
    "turn_right": gettext_noop("请慢慢向右转头"),
    "open_mouth": gettext_noop("请张张嘴"),
}

# One plain reason per failure, for the person in front of the camera. The texts stay
# Chinese here (gettext_noop marks them for makemessages); callers translate with _().
REASON_TEXT = {
    Reason.NO_FACE: gettext_noop("没有看清您的脸。请到光线明亮的地方，把整张脸放进框里再试一次。"),
    Reason.MULTIPLE_FACES: gettext_noop("画面里不止一个人。请让其他人离开镜头，再试一次。"),
    Reason.NO_MATCH: gettext_noop("没能确认是本人。请摘下帽子和眼镜，正对镜头再试一次。"),
    Reason.NO_LIVENESS: gettext_noop("没有看到要求的动作。请跟着提示眨眼、转头或张嘴，再试一次。"),
    Reason.EXPIRED: gettext_noop("时间到了，这次认证已超时。请重新开始。"),
    Reason.UNREADABLE: gettext_noop("照片无法读取。请重新拍摄。"),
    Reason.NO_REFERENCE: gettext_noop("还没有登记认证照片。请带身份证到社区或街道服务窗口办理。"),
}

# Proxy look-ups: a wrong ID, a wrong name, an unknown person, a deceased person and a
# person with no reference photo all get exactly this answer (DESIGN §5).
PROXY_NOT_FOUND = gettext_noop("身份证号和姓名对不上，或这位老人暂时不能由他人代为认证。请核对后再试，或陪老人到服务窗口办理。")


class FaceDenied(Exception):
    """A refusal the caller shows as is: `code`, Chinese `message`, HTTP `status`."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def frame_limits() -> engine.UploadLimits:
    return engine.UploadLimits(
        max_bytes=settings.FACE_MAX_FRAME_BYTES, max_side=settings.FACE_MAX_FRAME_SIDE,
        max_pixels=settings.FACE_MAX_FRAME_PIXELS,
    )


def photo_limits() -> engine.UploadLimits:
    return engine.UploadLimits(
        max_bytes=settings.FACE_MAX_PHOTO_BYTES, max_side=settings.FACE_MAX_PHOTO_SIDE,
        max_pixels=settings.FACE_MAX_PHOTO_PIXELS,
    )


# ---- reference faces ---------------------------------------------------------------

def reference_enroll(
    *, pensioner: Pensioner, image: bytes, source: str, source_ref: str = "", enrolled_by: User | None = None
) -> ReferenceFace:
    """Store (or replace) a pensioner's reference encoding. Raises engine.FaceError for a bad photo."""
    vector = engine.photo_encoding(image, photo_limits())  # slow: outside the transaction
    return _reference_store(pensioner=pensioner, vector=vector, source=source, source_ref=source_ref,
                            enrolled_by=enrolled_by)


@transaction.atomic
def _reference_store(*, pensioner: Pensioner, vector: np.ndarray, source: str, source_ref: str,
                     enrolled_by: User | None) -> ReferenceFace:
    ref, created = ReferenceFace.objects.update_or_create(
        pensioner=pensioner,
        defaults={"encoding": vector.astype("<f8").tobytes(), "source": source, "source_ref": source_ref[:200],
                  "enrolled_by": enrolled_by},
    )
    audit_log(actor=enrolled_by, action="face_reference_enroll", pensioner=pensioner, source=source,
              source_ref=source_ref[:200], replaced=not created)
    return ref


@transaction.atomic
def bulk_enrolment_start(*, folder: str, started_by: User | None = None) -> BulkEnrolment:
    run = BulkEnrolment.objects.create(folder=folder, started_by=started_by)
    from .tasks import bulk_enrolment_task

    transaction.on_commit(lambda: bulk_enrolment_task.delay(run.pk))
    return run


PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
BULK_PROGRESS_EVERY = 25  # files between progress writes (~2.5 s of work at ~100 ms a photo)


def bulk_enrolment_run(*, run_id: int) -> BulkEnrolment:
    """Enrol every `<id_number>.jpg` in the folder; per-file errors; already-enrolled files are skipped."""
    claimed = BulkEnrolment.objects.filter(pk=run_id, state=BulkEnrolment.State.PENDING).update(
        state=BulkEnrolment.State.RUNNING)
    run = BulkEnrolment.objects.get(pk=run_id)
    if claimed != 1:
        return run
    folder = Path(run.folder)
    if not folder.is_dir():
        run.state, run.errors, run.finished_at = BulkEnrolment.State.FAILED, [
            {"file": run.folder, "reason": "no_folder", "message": "文件夹不存在"}], timezone.now()
        run.save(update_fields=["state", "errors", "finished_at"])
        return run
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
    run.total = len(files)
    run.save(update_fields=["total"])
    errors: list[dict[str, str]] = []
    enrolled = skipped = 0
    for start in range(0, len(files), 500):  # set-based look-ups, 500 IDs at a time
        chunk = files[start:start + 500]
        ids = {p.stem.strip().upper() for p in chunk}
        known = dict(Pensioner.objects.filter(id_number__in=ids).values_list("id_number", "id"))
        done = set(ReferenceFace.objects.filter(pensioner__id_number__in=ids).values_list("pensioner__id_number", flat=True))
        for n, path in enumerate(chunk, start=start + 1):
            key = path.stem.strip().upper()
            if key not in known:
                errors.append({"file": path.name, "reason": "unknown_id", "message": "没有这个身份证号的退休人员"})
            elif key in done:
                skipped += 1
            else:
                try:
                    data = path.read_bytes()
                    reference_enroll(pensioner=Pensioner(pk=known[key], id_number=key), image=data,
                                     source=ReferenceFace.Source.BULK, source_ref=path.name, enrolled_by=run.started_by)
                    enrolled += 1
                    done.add(key)
                except engine.FaceError as exc:
                    errors.append({"file": path.name, "reason": exc.reason, "message": exc.message})
                except OSError:
                    errors.append({"file": path.name, "reason": "unreadable", "message": "文件无法读取"})
            if n % BULK_PROGRESS_EVERY == 0:
                BulkEnrolment.objects.filter(pk=run.pk).update(processed=n, enrolled=enrolled, skipped=skipped)
    run.processed, run.enrolled, run.skipped, run.errors = len(files), enrolled, skipped, errors
    run.state, run.finished_at = BulkEnrolment.State.DONE, timezone.now()
    run.save(update_fields=["processed", "enrolled", "skipped", "errors", "state", "finished_at"])
    audit_log(actor=run.started_by, action="face_bulk_enrolment", folder=run.folder, total=run.total,
              enrolled=enrolled, skipped=skipped, errors=len(errors))
    return run


# ---- consent, look-up, limits --------------------------------------------------------

@transaction.atomic
def consent_record(
    *, user: User, pensioner: Pensioner, mode: str, helper_relationship: str = "", channel: str = "web",
    user_agent: str = "",
) -> Consent:
    consent = Consent.objects.create(
        user=user, pensioner=pensioner, mode=mode, helper_relationship=helper_relationship[:32],
        text_version=CONSENT_TEXT_VERSION, channel=channel, user_agent=user_agent[:300],
    )
    audit_log(actor=user, action="face_consent", pensioner=pensioner, mode=mode, consent_id=consent.pk)
    return consent


def _rate_hit(key: str, limit: int) -> None:
    """Fixed one-hour window in the shared cache (Redis in production)."""
    bucket = f"faces:rl:{key}:{int(timezone.now().timestamp() // 3600)}"
    cache.add(bucket, 0, timeout=3700)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=3700)
        count = 1
    if count > limit:
        raise FaceDenied("rate_limited", _("尝试次数太多了，请过一个小时再试。"), 429)


def proxy_target_find(*, helper: User, id_number: str, name: str) -> Pensioner:
    """The pensioner a helper may certify, or FaceDenied with one uniform answer."""
    id_number = idnumber.normalize(id_number)
    name = (name or "").strip()
    _rate_hit(f"helper:{helper.pk}", settings.FACE_PROXY_HELPER_PER_HOUR)
    _rate_hit("target:" + hashlib.sha256(id_number.encode()).hexdigest()[:32], settings.FACE_PROXY_TARGET_PER_HOUR)
    p = (Pensioner.objects.filter(id_number=id_number, name=name).exclude(status=Status.DECEASED)
         .filter(reference_face__isnull=False).select_related("street_office").first())
    if p is None:
        raise FaceDenied("not_found", _(PROXY_NOT_FOUND), 404)
    return p


def proxy_quota_check(*, helper: User, pensioner: Pensioner, today: dt.date | None = None) -> None:
    """One helper may certify at most FACE_PROXY_MAX_PENSIONERS distinct people in the window."""
    today = today or rules.today_local()
    since = rules.add_months(today, -settings.FACE_PROXY_WINDOW_MONTHS)
    people = set(
        Certification.objects.filter(method=Method.FACE_PROXY, helper=helper, occurred_on__gt=since)
        .values_list("pensioner_id", flat=True).distinct()
    )
    if pensioner.pk not in people and len(people) >= settings.FACE_PROXY_MAX_PENSIONERS:
        raise FaceDenied(
            "proxy_limit",
            _("每位代办人一年内最多为 %(n)s 位老人代为认证，您已达到上限。请陪老人到服务窗口办理。")
            % {"n": settings.FACE_PROXY_MAX_PENSIONERS},
            403,
        )


def failures_today(pensioner: Pensioner, today: dt.date | None = None) -> int:
    today = today or rules.today_local()
    return (FaceAttempt.objects.filter(pensioner=pensioner, occurred_on=today, passed=False)
            .exclude(reason=Reason.EXPIRED).count())


def attempts_exhausted(pensioner: Pensioner, today: dt.date | None = None) -> bool:
    return failures_today(pensioner, today) >= settings.FACE_MAX_FAILED_PER_DAY


# ---- sessions and attempts ---------------------------------------------------------------

@transaction.atomic
def session_start(*, user: User, consent: Consent, now: dt.datetime | None = None) -> FaceSession:
    """Issue a random two-prompt challenge with a nonce, valid FACE_CHALLENGE_SECONDS, for one use."""
    now = now or timezone.now()
    p = consent.pensioner
    if consent.user_id != user.pk:
        raise FaceDenied("no_consent", _("请先阅读并同意授权说明。"), 400)
    if p.status == Status.DECEASED or not ReferenceFace.objects.filter(pensioner=p).exists():
        if consent.mode == Mode.PROXY:
            raise FaceDenied("not_found", _(PROXY_NOT_FOUND), 404)
        if p.status == Status.DECEASED:
            raise FaceDenied("not_allowed", _("您的账户暂时不能刷脸认证，请联系服务窗口。"), 403)
        raise FaceDenied("no_reference", _(REASON_TEXT[Reason.NO_REFERENCE]), 409)
    if attempts_exhausted(p, timezone.localdate(now)):
        raise FaceDenied("attempts_exhausted", _(EXHAUSTED_TEXT), 429)
    if consent.mode == Mode.PROXY:
        proxy_quota_check(helper=user, pensioner=p, today=timezone.localdate(now))
    session = FaceSession.objects.create(
        nonce=secrets.token_urlsafe(24), user=user, pensioner=p, consent=consent, mode=consent.mode,
        helper_relationship=consent.helper_relationship, challenge=challenge_pick(),
        expires_at=now + dt.timedelta(seconds=settings.FACE_CHALLENGE_SECONDS),
    )
    audit_log(actor=user, action="face_session_start", pensioner=p, mode=consent.mode, session_id=session.pk)
    return session


def challenge_pick() -> list[str]:
    """Two different prompts, from the OS random source (tests pin this to what a clip shows)."""
    return secrets.SystemRandom().sample(engine.PROMPTS, 2)


EXHAUSTED_TEXT = gettext_noop("今天刷脸认证已经失败 5 次了。请改用其他方式：到服务窗口认证、预约视频认证，或请工作人员上门认证。")


def validate_frames(frames: list[bytes]) -> int:
    """Count, total size and each header: raises engine.UploadRejected (HTTP 400). No pixel decoding here."""
    if not frames:
        raise engine.UploadRejected("no_frames", _("没有收到照片，请重新拍摄。"))
    if len(frames) < settings.FACE_MIN_FRAMES:
        raise engine.UploadRejected("too_few_frames", _("照片太少，请重新拍摄。"))
    if len(frames) > settings.FACE_MAX_FRAMES:
        raise engine.UploadRejected("too_many_frames", _("照片太多，最多 %(n)s 张。") % {"n": settings.FACE_MAX_FRAMES})
    total = sum(len(f) for f in frames)
    if total > settings.FACE_MAX_UPLOAD_BYTES:
        raise engine.UploadRejected("upload_too_large", _("上传的内容太大。"))
    limits = frame_limits()
    for f in frames:
        engine.inspect(f, limits)
    return total


def attempt_create(
    *, nonce: str, user: User, frames: list[bytes], user_agent: str = "", mirrored: bool = False,
    now: dt.datetime | None = None,
) -> FaceAttempt:
    """Validate the upload, spend the session (one use) and store the frames for the check.

    Raises engine.UploadRejected (400) for a bad upload, which leaves the session unspent,
    and FaceDenied for an unknown or already used session. An expired session is
    recorded as a failed attempt with the reason `expired`.
    """
    total = validate_frames(frames)
    now = now or timezone.now()
    with transaction.atomic():
        session = FaceSession.objects.select_for_update().filter(nonce=nonce, user=user).first()
        if session is None:
            raise FaceDenied("no_session", _("这次认证已失效，请重新开始。"), 404)
        # One use: a conditional update claims the session; a replay matches nothing.
        if FaceSession.objects.filter(pk=session.pk, used_at__isnull=True).update(used_at=now) != 1:
            raise FaceDenied("session_used", _("这次认证已经提交过了，请重新开始。"), 409)
        attempt = FaceAttempt.objects.create(
            session=session, pensioner_id=session.pensioner_id, user=user, mode=session.mode,
            occurred_on=timezone.localdate(now), frame_count=len(frames), bytes_total=total,
            user_agent=user_agent[:300], mirrored=mirrored, tolerance=settings.FACE_TOLERANCE,
        )
        if session.expires_at < now:
            attempt.state, attempt.passed, attempt.reason, attempt.decided_at = (
                FaceAttempt.State.DONE, False, Reason.EXPIRED, now)
            attempt.save(update_fields=["state", "passed", "reason", "decided_at"])
            return attempt
        folder = f"face_frames/{attempt.pk}-{secrets.token_hex(8)}"
        for i, data in enumerate(frames):
            default_storage.save(f"{folder}/{i:03d}.img", ContentFile(data))
        attempt.frames_dir = folder
        attempt.save(update_fields=["frames_dir"])
    return attempt


def attempt_dispatch(*, attempt: FaceAttempt) -> FaceAttempt:
    """Queue the check on the `face` queue. Call after attempt_create has committed.

    In dev and tests Celery is eager, so this returns the decided attempt.
    """
    if attempt.state != FaceAttempt.State.PENDING:
        return attempt
    _dispatch(attempt.pk)
    attempt.refresh_from_db()
    return attempt


def _dispatch(attempt_id: int) -> bool:
    """One publish attempt, bounded by REDIS_SOCKET_TIMEOUT; the page never waits on a dead broker.

    On a broker error the attempt stays pending (its frames are stored) and
    attempts_redispatch sends it again once the broker answers (docs/reliability.md, drill 10).
    """
    from .tasks import face_attempt_verify

    try:
        face_attempt_verify.apply_async((attempt_id,), retry=False, ignore_result=True)
    except Exception as exc:  # noqa: BLE001 - any broker error: the pending row waits for the redispatch
        if face_attempt_verify.app.conf.task_always_eager:
            raise  # inline: this is the check itself failing, not the broker
        log.warning("face attempt %s: dispatch failed (%s); attempts_redispatch will send it",
                    attempt_id, type(exc).__name__)
        return False
    return True


# A pending attempt this old lost its task (broker down at dispatch, or a worker killed before
# it claimed the attempt): send it again. The check claims PENDING with a conditional update,
# so a second task for the same attempt does nothing.
PENDING_REDISPATCH_AFTER = dt.timedelta(seconds=60)
REDISPATCH_BATCH = 200


def attempts_redispatch(*, now: dt.datetime | None = None) -> int:
    """Beat, every minute: re-send the check of attempts left pending. Returns how many were sent."""
    now = now or timezone.now()
    ids = list(FaceAttempt.objects.filter(state=FaceAttempt.State.PENDING,
                                          created_at__lt=now - PENDING_REDISPATCH_AFTER)
               .order_by("id").values_list("id", flat=True)[:REDISPATCH_BATCH])
    return sum(1 for pk in ids if _dispatch(pk))


def _read_frames(folder: str) -> list[bytes]:
    _, names = default_storage.listdir(folder)
    out = []
    for name in sorted(names):
        with default_storage.open(f"{folder}/{name}", "rb") as fh:
            out.append(fh.read())
    return out


def _delete_frames(folder: str) -> None:
    if not folder:
        return
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        default_storage.delete(f"{folder}/{name}")
    path = Path(settings.MEDIA_ROOT) / folder
    if path.is_dir():
        path.rmdir()


def attempt_decide(*, attempt_id: int) -> FaceAttempt:
    """Run the engine on a stored attempt and record the result. Safe to repeat."""
    if FaceAttempt.objects.filter(pk=attempt_id, state=FaceAttempt.State.PENDING).update(
            state=FaceAttempt.State.RUNNING) != 1:
        return FaceAttempt.objects.get(pk=attempt_id)
    attempt = FaceAttempt.objects.select_related("session", "pensioner").get(pk=attempt_id)
    ref = ReferenceFace.objects.filter(pensioner_id=attempt.pensioner_id).first()
    verdict: engine.Verdict | None = None
    reason = ""
    if ref is None:
        reason = Reason.NO_REFERENCE
    else:
        try:
            verdict = engine.verify(
                _read_frames(attempt.frames_dir), reference=ref.vector(), challenge=attempt.session.challenge,
                tolerance=attempt.tolerance or settings.FACE_TOLERANCE, limits=frame_limits(),
                mirrored=attempt.mirrored,
            )
            reason = verdict.reason
        except (engine.UploadRejected, OSError):
            reason = Reason.UNREADABLE
    attempt = _attempt_record(attempt=attempt, verdict=verdict, reason=reason)
    if settings.FACE_FRAME_RETENTION_DAYS <= 0:
        _delete_frames(attempt.frames_dir)
        FaceAttempt.objects.filter(pk=attempt.pk).update(frames_deleted_at=timezone.now())
    return attempt


@transaction.atomic
def _attempt_record(*, attempt: FaceAttempt, verdict: engine.Verdict | None, reason: str) -> FaceAttempt:
    today = rules.today_local()
    attempt.state = FaceAttempt.State.DONE
    attempt.decided_at = timezone.now()
    attempt.reason = reason
    attempt.passed = not reason
    if verdict is not None:
        attempt.distance = verdict.distance
        attempt.liveness_ok = verdict.liveness_ok
        attempt.liveness_detail = {
            "challenge": attempt.session.challenge, "frames": verdict.liveness_frames,
            "distinct_frames": verdict.distinct_frames,
        }
        attempt.timings_ms = verdict.timings_ms
    fields = ["state", "decided_at", "reason", "passed", "distance", "liveness_ok", "liveness_detail", "timings_ms"]
    if attempt.passed:
        proxy = attempt.mode == Mode.PROXY
        try:
            result = certification_record(
                pensioner=attempt.pensioner, method=Method.FACE_PROXY if proxy else Method.FACE_SELF,
                occurred_on=today, today=today, helper=attempt.user if proxy else None,
                helper_relationship=attempt.session.helper_relationship if proxy else "",
                source="face", evidence_ref=f"face-attempt:{attempt.pk}",
            )
        except ValueError:  # deceased meanwhile: not certifiable
            attempt.passed, attempt.reason = False, Reason.NO_MATCH
        else:
            attempt.certification = result.certification
            fields.append("certification")
            if proxy:
                cert_id = result.certification.pk
                transaction.on_commit(lambda: _notify_proxy(cert_id))
    attempt.save(update_fields=fields)
    if not attempt.passed and attempts_exhausted(attempt.pensioner, today):
        # The staff queue filters on this column; a plain update, no save() on the shared row.
        Pensioner.objects.filter(pk=attempt.pensioner_id).update(face_attempts_exhausted_on=today)
    audit_log(actor=attempt.user, action="face_attempt", pensioner=attempt.pensioner, attempt_id=attempt.pk,
              passed=attempt.passed, reason=attempt.reason, distance=attempt.distance)
    return attempt


def _notify_proxy(certification_id: int) -> None:
    from notifications.services import notify_proxy_certification

    notify_proxy_certification(certification_id=certification_id)


def frames_purge(*, now: dt.datetime | None = None) -> int:
    """Delete kept frames older than FACE_FRAME_RETENTION_DAYS (only relevant when it is > 0)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=max(settings.FACE_FRAME_RETENTION_DAYS, 0))
    # Only decided attempts: a queued attempt's frames are still waiting for the worker.
    qs = FaceAttempt.objects.filter(frames_deleted_at__isnull=True, created_at__lt=cutoff,
                                    state=FaceAttempt.State.DONE).exclude(frames_dir="")
    count = 0
    for attempt_id, folder in qs.values_list("id", "frames_dir")[:1000]:  # bounded; the beat runs it again
        _delete_frames(folder)
        FaceAttempt.objects.filter(pk=attempt_id).update(frames_deleted_at=now)
        count += 1
    return count


# ---- what pages and the API show ---------------------------------------------------------------

@dataclass(frozen=True)
class VerdictView:
    status: str  # pending | passed | failed
    reason: str
    message: str
    valid_until: dt.date | None
    exhausted: bool  # 5 failures today: no retry, only the other channels


def verdict_for(attempt: FaceAttempt) -> VerdictView:
    if attempt.state != FaceAttempt.State.DONE:
        return VerdictView("pending", "", _("正在核验，请稍候……"), None, False)
    if attempt.passed:
        attempt.pensioner.refresh_from_db(fields=["valid_until"])
        return VerdictView("passed", "", _("认证成功。"), attempt.pensioner.valid_until, False)
    exhausted = attempts_exhausted(attempt.pensioner, attempt.occurred_on)
    return VerdictView("failed", attempt.reason, _(REASON_TEXT.get(attempt.reason, gettext_noop("认证没有通过。"))), None, exhausted)


def prompts_text(challenge: Iterable[str]) -> list[str]:
    return [_(PROMPT_TEXT[c]) for c in challenge]
