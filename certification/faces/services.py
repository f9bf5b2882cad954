"""Writes for face certification. Keyword-only, typed, atomic, audited (STYLE §4).

The engine (pure) decides; these functions validate, store and record. The slow
part (the engine) never runs inside a database transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from certification import idnumber, rules
from certification.lookups import LookupLimited, lookup_count
from certification.models import Certification, Method, Pensioner, User
from certification.rules import Status
from certification.services import audit_log, certification_record

from . import engine
from .models import (
    BulkEnrolment,
    Consent,
    FaceAttempt,
    FaceSession,
    FrameHash,
    Mode,
    Reason,
    ReferenceFace,
)

log = logging.getLogger(__name__)

CONSENT_TEXT_VERSION = "2026-11"

PROMPT_TEXT = {
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
    Reason.NO_LIVENESS: gettext_noop("没有看到要求的动作。请看到提示后再慢慢转头，再试一次。"),
    Reason.EXPIRED: gettext_noop("时间到了，这次认证已超时。请重新开始。"),
    Reason.ABANDONED: gettext_noop("上一次刷脸没有做完，算作一次没有通过。"),
    Reason.REPLAY: gettext_noop("这些画面以前提交过。请本人对着摄像头，跟着提示重新做一次。"),
    Reason.SPLICED: gettext_noop("画面中途换了人。请本人从头到尾对着摄像头，再试一次。"),
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
def import_folder(folder: str) -> Path:
    """`folder` resolved inside settings.FACE_IMPORT_ROOT (a relative name is taken from there), or
    FaceDenied: bulk enrolment reads ID photos from the import root only, never any server folder
    (issue 13 item 13). Symbolic links and `..` are resolved before the check."""
    root = Path(settings.FACE_IMPORT_ROOT).resolve()
    path = Path(folder.strip())
    path = (path if path.is_absolute() else root / path).resolve()
    if not _inside(path, root):
        raise FaceDenied("outside_import_root",
                         _("只能导入证件照导入目录（%(root)s）里的文件夹。") % {"root": root}, 400)
    return path


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def bulk_enrolment_start(*, folder: str, started_by: User | None = None) -> BulkEnrolment:
    folder = str(import_folder(folder))
    run = BulkEnrolment.objects.create(folder=folder, started_by=started_by)
    from notifications.services import publish_once

    from .tasks import bulk_enrolment_task

    def not_queued() -> None:  # a dead broker neither hangs the page nor leaves the run pending for ever
        BulkEnrolment.objects.filter(pk=run.pk, state=BulkEnrolment.State.PENDING).update(
            state=BulkEnrolment.State.FAILED, finished_at=timezone.now(),
            errors=[{"file": "", "reason": "queue_unavailable", "message": _("任务队列暂不可用，尚未开始；请稍后重新导入。")}])

    transaction.on_commit(lambda: publish_once(bulk_enrolment_task, (run.pk,), what=f"bulk enrolment {run.pk}",
                                               on_failure=not_queued))
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
    try:
        folder = import_folder(run.folder)  # again: the root may have changed since the run was queued
    except FaceDenied as exc:
        run.state, run.errors, run.finished_at = BulkEnrolment.State.FAILED, [
            {"file": run.folder, "reason": exc.code, "message": exc.message}], timezone.now()
        run.save(update_fields=["state", "errors", "finished_at"])
        return run
    if not folder.is_dir():
        run.state, run.errors, run.finished_at = BulkEnrolment.State.FAILED, [
            {"file": run.folder, "reason": "no_folder", "message": "文件夹不存在"}], timezone.now()
        run.save(update_fields=["state", "errors", "finished_at"])
        return run
    # A link inside the folder may not lead out of the import root either.
    root = Path(settings.FACE_IMPORT_ROOT).resolve()
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES and _inside(p.resolve(), root))
    run.total = len(files)
    run.save(update_fields=["total"])
    errors: list[dict[str, str]] = []
    enrolled = skipped = 0
    for start in range(0, len(files), 500):  # set-based look-ups, 500 IDs at a time
        chunk = files[start:start + 500]
        ids = {idnumber.normalize(p.stem) for p in chunk}
        known = dict(Pensioner.objects.filter(id_number__in=ids).values_list("id_number", "id"))
        done = set(ReferenceFace.objects.filter(pensioner__id_number__in=ids).values_list("pensioner__id_number", flat=True))
        for n, path in enumerate(chunk, start=start + 1):
            key = idnumber.normalize(path.stem)
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


def proxy_target_find(*, helper: User, id_number: str, name: str) -> Pensioner:
    """The pensioner a helper may certify, or FaceDenied with one uniform answer."""
    id_number = idnumber.normalize(id_number)
    name = (name or "").strip()
    try:
        # Per helper and per ID number, found or not; the same counters as the home-visit form
        # and the relative's appeal (certification.lookups), so no form adds guesses.
        lookup_count(helper_id=helper.pk, id_number=id_number)
    except LookupLimited:
        raise FaceDenied("rate_limited", _("尝试次数太多了，请过一个小时再试。"), 429) from None
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
    """Failed attempts of the local day, expired and abandoned ones included (DESIGN §6)."""
    today = today or rules.today_local()
    return FaceAttempt.objects.filter(pensioner=pensioner, occurred_on=today, passed=False).count()


def attempts_exhausted(pensioner: Pensioner, today: dt.date | None = None) -> bool:
    return failures_today(pensioner, today) >= settings.FACE_MAX_FAILED_PER_DAY


def tries_left(pensioner: Pensioner, today: dt.date | None = None) -> int:
    return max(settings.FACE_MAX_FAILED_PER_DAY - failures_today(pensioner, today), 0)


def consent_for_today(*, user: User, pensioner: Pensioner | None = None, mode: str,
                      now: dt.datetime | None = None) -> Consent | None:
    """Consent holds for the local day it was given: a retry does not go through it again."""
    now = now or timezone.now()
    start = dt.datetime.combine(timezone.localdate(now), dt.time.min, tzinfo=timezone.get_current_timezone())
    qs = Consent.objects.filter(user=user, mode=mode, given_at__gte=start)
    if pensioner is not None:
        qs = qs.filter(pensioner=pensioner)
    return qs.select_related("pensioner").order_by("-given_at").first()


# ---- sessions and attempts ---------------------------------------------------------------

def schedule_pick() -> tuple[list[dict[str, Any]], int]:
    """The server's challenge: 2 prompts, each a head turn to a side drawn at random (4 schedules:
    left-left, left-right, right-left, right-right), each issued at a random moment.

    Two prompts, not more: each one costs an old person about 4-5 s and a try when it fails,
    and a recording is stopped mostly by the random moments and the replay memory (docs/faces.md).
    open_mouth is not issued: at 5 fps it could not be told from talking or a moved print (H4b).
    First prompt 1.0-3.0 s after the start, the next 4.0-5.5 s later (the 4-s response window
    plus time to settle); capture ends 4.5 s after the last prompt. Tests pin this to a clip.
    """
    rng = secrets.SystemRandom()
    kinds = [rng.choice(engine.PROMPTS) for _ in range(2)]
    at = rng.randrange(1000, 3001, 100)
    schedule = []
    for kind in kinds:
        schedule.append({"kind": kind, "at_ms": at})
        at += rng.randrange(4000, 5501, 100)
    return schedule, schedule[-1]["at_ms"] + engine.PROMPT_RESPONSE_MS + 500


def _frames_drop(attempt_id: int, folder: str, now: dt.datetime) -> None:
    _delete_frames(folder)
    FaceAttempt.objects.filter(pk=attempt_id).update(frames_deleted_at=now)


def _exhaustion_mark(pensioner_id: int, today: dt.date) -> None:
    if FaceAttempt.objects.filter(pensioner_id=pensioner_id, occurred_on=today, passed=False).count() >= \
            settings.FACE_MAX_FAILED_PER_DAY:
        # The staff queue filters on this column; a plain update, no save() on the shared row.
        Pensioner.objects.filter(pk=pensioner_id).update(face_attempts_exhausted_on=today)


def attempts_abandon(*, pensioner_id: int | None = None, now: dt.datetime | None = None,
                     expired_only: bool = True, limit: int = 500) -> int:
    """Close open (capturing) attempts as failed `abandoned`: they count against the daily cap.

    A conditional update claims each one, so the purge and a new session start never both close it.
    """
    now = now or timezone.now()
    qs = FaceAttempt.objects.filter(state=FaceAttempt.State.CAPTURING)
    if pensioner_id is not None:
        qs = qs.filter(pensioner_id=pensioner_id)
    if expired_only:
        qs = qs.filter(session__expires_at__lt=now)
    closed = 0
    for attempt_id, pid, folder, day in qs.values_list("id", "pensioner_id", "frames_dir", "occurred_on")[:limit]:
        if FaceAttempt.objects.filter(pk=attempt_id, state=FaceAttempt.State.CAPTURING).update(
                state=FaceAttempt.State.DONE, passed=False, reason=Reason.ABANDONED, decided_at=now) != 1:
            continue
        _frames_drop(attempt_id, folder, now)
        _exhaustion_mark(pid, day)
        closed += 1
    return closed


def session_start(*, user: User, consent: Consent, now: dt.datetime | None = None) -> FaceSession:
    """Open a session and its attempt: the failure cap, the daily start cap and one open session per person.

    A person's earlier open session is closed as abandoned (a failed attempt) first, so a page left
    open in another tab cannot be used to pick a challenge that suits a recording.
    """
    now = now or timezone.now()
    p = consent.pensioner
    today = timezone.localdate(now)
    if consent.user_id != user.pk:
        raise FaceDenied("no_consent", _("请先阅读并同意授权说明。"), 400)
    if p.status == Status.DECEASED or not ReferenceFace.objects.filter(pensioner=p).exists():
        if consent.mode == Mode.PROXY:
            raise FaceDenied("not_found", _(PROXY_NOT_FOUND), 404)
        if p.status == Status.DECEASED:
            raise FaceDenied("not_allowed", _("您的账户暂时不能刷脸认证，请联系服务窗口。"), 403)
        raise FaceDenied("no_reference", _(REASON_TEXT[Reason.NO_REFERENCE]), 409)
    if consent.mode == Mode.PROXY:
        proxy_quota_check(helper=user, pensioner=p, today=today)
    attempts_abandon(pensioner_id=p.pk, now=now, expired_only=False)
    return _session_open(user=user, consent=consent, now=now)


@transaction.atomic
def _session_open(*, user: User, consent: Consent, now: dt.datetime) -> FaceSession:
    p = Pensioner.objects.select_for_update().get(pk=consent.pensioner_id)  # serialises starts of one person
    today = timezone.localdate(now)
    if attempts_exhausted(p, today):
        raise FaceDenied("attempts_exhausted", _(EXHAUSTED_TEXT), 429)
    start = dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())
    if FaceSession.objects.filter(pensioner=p, created_at__gte=start).count() >= settings.FACE_MAX_SESSIONS_PER_DAY:
        raise FaceDenied("sessions_exhausted", _(SESSIONS_TEXT), 429)
    schedule, capture_ms = schedule_pick()
    session = FaceSession.objects.create(
        nonce=secrets.token_urlsafe(24), user=user, pensioner=p, consent=consent, mode=consent.mode,
        helper_relationship=consent.helper_relationship, challenge=[x["kind"] for x in schedule],
        schedule=schedule, capture_ms=capture_ms,
        expires_at=now + dt.timedelta(seconds=settings.FACE_CHALLENGE_SECONDS),
    )
    # created_at is the origin of every arrival stamp and prompt moment: the server's clock.
    FaceSession.objects.filter(pk=session.pk).update(created_at=now)
    session.created_at = now
    FaceAttempt.objects.create(
        session=session, pensioner=p, user=user, mode=session.mode, occurred_on=today,
        tolerance=settings.FACE_TOLERANCE, state=FaceAttempt.State.CAPTURING,
        frames_dir=f"face_frames/{session.pk}-{secrets.token_hex(8)}",
    )
    audit_log(actor=user, action="face_session_start", pensioner=p, mode=consent.mode, session_id=session.pk)
    return session


def elapsed_ms(session: FaceSession, now: dt.datetime | None = None) -> int:
    return int(((now or timezone.now()) - session.created_at).total_seconds() * 1000)


@dataclass(frozen=True)
class PromptNow:
    step: int  # 0 before the first prompt, then 1..n
    of: int
    kind: str
    text: str
    done: bool  # the capture is over: the page sends its last chunk with done=1


def prompt_now(*, session: FaceSession, now: dt.datetime | None = None) -> PromptNow:
    """What the page may know at this moment: only prompts already issued, never the next one."""
    t = elapsed_ms(session, now)
    issued = [x for x in session.schedule if x["at_ms"] <= t]
    kind = issued[-1]["kind"] if issued else ""
    return PromptNow(step=len(issued), of=len(session.schedule), kind=kind,
                     text=_(PROMPT_TEXT[kind]) if kind else _("请看着屏幕，准备好"), done=t >= session.capture_ms)


def session_for(*, nonce: str, user: User) -> FaceSession:
    session = FaceSession.objects.filter(nonce=nonce, user=user).select_related("attempt").first()
    if session is None:
        raise FaceDenied("no_session", _("这次认证已失效，请重新开始。"), 404)
    return session


EXHAUSTED_TEXT = gettext_noop("今天刷脸认证已经失败 5 次了。请改用其他方式：到服务窗口认证、预约视频认证，或请工作人员上门认证。")
SESSIONS_TEXT = gettext_noop("今天开始刷脸的次数太多了，请明天再试，或改用其他认证方式。")


def validate_chunk(frames: list[bytes], *, already: int) -> int:
    """One chunk: count, running total, size and each header. Raises engine.UploadRejected (HTTP 400)."""
    if not frames:
        raise engine.UploadRejected("no_frames", _("没有收到照片，请重新拍摄。"))
    if len(frames) > settings.FACE_CHUNK_MAX_FRAMES or already + len(frames) > settings.FACE_MAX_FRAMES:
        raise engine.UploadRejected("too_many_frames", _("照片太多，最多 %(n)s 张。") % {"n": settings.FACE_MAX_FRAMES})
    total = sum(len(f) for f in frames)
    if total > settings.FACE_MAX_UPLOAD_BYTES:
        raise engine.UploadRejected("upload_too_large", _("上传的内容太大。"))
    limits = frame_limits()
    for f in frames:
        engine.inspect(f, limits)
    return total


def _session_closed(attempt: FaceAttempt) -> FaceDenied:
    if attempt.reason == Reason.ABANDONED:
        return FaceDenied("session_closed", _("这次认证已经结束了（可能在别处重新开始了），请重新开始。"), 409)
    return FaceDenied("session_used", _("这次认证已经提交过了，请重新开始。"), 409)


def frames_add(*, nonce: str, user: User, frames: list[bytes], now: dt.datetime | None = None) -> FaceAttempt:
    """Store one chunk, stamped with the server's arrival time. Raises UploadRejected / FaceDenied.

    The stamp is the moment the chunk arrives, never a time the page claims: a prompt's motion
    counts only in frames that arrive after the prompt was issued.
    """
    now = now or timezone.now()
    session = session_for(nonce=nonce, user=user)
    with transaction.atomic():
        attempt = FaceAttempt.objects.select_for_update().get(session=session)
        if attempt.state != FaceAttempt.State.CAPTURING:
            raise _session_closed(attempt)
        if session.expires_at < now:
            raise FaceDenied("expired", _(REASON_TEXT[Reason.EXPIRED]), 409)
        total = validate_chunk(frames, already=attempt.frame_count)
        stamp = elapsed_ms(session, now)
        for k, data in enumerate(frames):
            default_storage.save(f"{attempt.frames_dir}/{attempt.frame_count + k:03d}.img", ContentFile(data))
        attempt.arrivals_ms = [*attempt.arrivals_ms, *([stamp] * len(frames))]
        attempt.frame_count += len(frames)
        attempt.bytes_total += total
        attempt.save(update_fields=["arrivals_ms", "frame_count", "bytes_total"])
        first, count, attempt_id = attempt.frame_count - len(frames), len(frames), attempt.pk
        transaction.on_commit(lambda: _chunk_dispatch(attempt_id, first, count))
    return attempt


def _chunk_dispatch(attempt_id: int, first: int, count: int) -> None:
    from .tasks import face_chunk_analyse

    try:  # one publish attempt, bounded by REDIS_SOCKET_TIMEOUT: the page never waits on a dead broker
        face_chunk_analyse.apply_async((attempt_id, first, count), retry=False, ignore_result=True)
    except Exception:  # broker unreachable: the decision analyses these frames itself
        log.warning("chunk analysis of attempt %s not queued", attempt_id, exc_info=True)


def chunk_analyse(*, attempt_id: int, first: int, count: int) -> int:
    """Analyse one chunk as it arrives (detect, landmarks, hash), next to its frames, so the verdict
    after the last chunk waits only for that chunk and a few encodings. Safe to repeat or to skip."""
    attempt = FaceAttempt.objects.filter(pk=attempt_id).values("frames_dir", "frames_deleted_at").first()
    if attempt is None or attempt["frames_deleted_at"] is not None:
        return 0
    names = [f"{attempt['frames_dir']}/{i:03d}" for i in range(first, first + count)]
    try:
        frames = []
        for name in names:
            with default_storage.open(f"{name}.img", "rb") as fh:
                frames.append(fh.read())
        infos = engine.analyse_chunk(frames, frame_limits())
    except (OSError, engine.UploadRejected):
        return 0  # gone (purged) or unreadable: the decision analyses or refuses it
    for name, info in zip(names, infos, strict=True):
        if default_storage.exists(f"{name}.json"):
            default_storage.delete(f"{name}.json")
        default_storage.save(f"{name}.json", ContentFile(json.dumps(info.to_json()).encode()))
    return len(infos)


def _read_infos(folder: str, count: int) -> list[engine.FrameInfo | None]:
    out: list[engine.FrameInfo | None] = []
    for i in range(count):
        try:
            with default_storage.open(f"{folder}/{i:03d}.json", "rb") as fh:
                out.append(engine.FrameInfo.from_json(json.loads(fh.read())))
        except (OSError, ValueError, KeyError, TypeError):
            out.append(None)
    return out


def attempt_finish(*, nonce: str, user: User, user_agent: str = "", now: dt.datetime | None = None) -> FaceAttempt:
    """The page's last chunk is in: hand the attempt to the check (one use), or record it expired."""
    now = now or timezone.now()
    session = session_for(nonce=nonce, user=user)
    with transaction.atomic():
        attempt = FaceAttempt.objects.select_for_update().get(session=session)
        if attempt.state != FaceAttempt.State.CAPTURING:
            raise _session_closed(attempt)
        if attempt.frame_count < settings.FACE_MIN_FRAMES and session.expires_at >= now:
            raise engine.UploadRejected("too_few_frames", _("照片太少，请重新拍摄。"))
        FaceSession.objects.filter(pk=session.pk).update(used_at=now)
        attempt.user_agent = user_agent[:300]
        if session.expires_at < now:
            attempt.state, attempt.passed, attempt.reason, attempt.decided_at = (
                FaceAttempt.State.DONE, False, Reason.EXPIRED, now)
            attempt.save(update_fields=["state", "passed", "reason", "decided_at", "user_agent"])
            folder, attempt_id, pid, day = attempt.frames_dir, attempt.pk, attempt.pensioner_id, attempt.occurred_on
            transaction.on_commit(lambda: (_frames_drop(attempt_id, folder, now), _exhaustion_mark(pid, day)))
            return attempt
        attempt.state = FaceAttempt.State.PENDING
        attempt.save(update_fields=["state", "user_agent"])
    return attempt


def attempt_dispatch(*, attempt: FaceAttempt) -> FaceAttempt:
    """Queue the check on the `face` queue. Call after attempt_finish has committed.

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
# so a second task for the same attempt does nothing. "Pending since" is the finish (the
# session's used_at): the attempt row itself is created when the session starts.
PENDING_REDISPATCH_AFTER = dt.timedelta(seconds=60)
REDISPATCH_BATCH = 200


def attempts_redispatch(*, now: dt.datetime | None = None) -> int:
    """Beat, every minute: re-send the check of attempts left pending. Returns how many were sent."""
    now = now or timezone.now()
    ids = list(FaceAttempt.objects.filter(state=FaceAttempt.State.PENDING,
                                          session__used_at__lt=now - PENDING_REDISPATCH_AFTER)
               .order_by("id").values_list("id", flat=True)[:REDISPATCH_BATCH])
    return sum(1 for pk in ids if _dispatch(pk))


def _read_frames(folder: str, count: int) -> list[bytes]:
    out = []
    for i in range(count):
        with default_storage.open(f"{folder}/{i:03d}.img", "rb") as fh:
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


# ---- replay memory -------------------------------------------------------------------------

def _bands(h: int) -> list[int]:
    u = h & ((1 << 64) - 1)
    return [(u >> (16 * k)) & 0xFFFF for k in range(4)]


class DatabaseReplayMemory:
    """Frame hashes of every sequence submitted in the last FACE_REPLAY_DAYS, for anyone."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.since = (now or timezone.now()) - dt.timedelta(days=settings.FACE_REPLAY_DAYS)

    def candidates(self, hashes: list[int]) -> dict[Any, list[int]]:
        if not hashes:
            return {}
        bands = [_bands(h) for h in hashes]
        match = Q()
        for k in range(4):
            match |= Q(**{f"band{k}__in": sorted({b[k] for b in bands})})
        ids = list(FrameHash.objects.filter(match, created_at__gte=self.since)
                   .values_list("attempt_id", flat=True).distinct()[:50])
        found: dict[Any, list[int]] = {i: [] for i in ids}
        for attempt_id, h in FrameHash.objects.filter(attempt_id__in=ids).order_by("attempt_id", "idx").values_list(
                "attempt_id", "phash"):
            found[attempt_id].append(h)
        return found

    def remember(self, key: Any, hashes: list[int], now: dt.datetime | None = None) -> None:
        now = now or timezone.now()
        FrameHash.objects.bulk_create([
            FrameHash(attempt_id=key, idx=i, phash=h, created_at=now, **{f"band{k}": b for k, b in enumerate(_bands(h))})
            for i, h in enumerate(hashes)
        ])


def attempt_decide(*, attempt_id: int) -> FaceAttempt:
    """Run the engine on a stored attempt and record the result. Safe to repeat."""
    if FaceAttempt.objects.filter(pk=attempt_id, state=FaceAttempt.State.PENDING).update(
            state=FaceAttempt.State.RUNNING) != 1:
        return FaceAttempt.objects.get(pk=attempt_id)
    attempt = FaceAttempt.objects.select_related("session", "pensioner").get(pk=attempt_id)
    ref = ReferenceFace.objects.filter(pensioner_id=attempt.pensioner_id).first()
    verdict: engine.Verdict | None = None
    reason = ""
    replay_of = None
    if ref is None:
        reason = Reason.NO_REFERENCE
    else:
        try:
            verdict = engine.verify(
                _read_frames(attempt.frames_dir, attempt.frame_count), arrived_ms=attempt.arrivals_ms,
                prompts=[engine.Prompt(x["kind"], x["at_ms"]) for x in attempt.session.schedule],
                reference=ref.vector(), tolerance=attempt.tolerance or settings.FACE_TOLERANCE,
                limits=frame_limits(), face_share=settings.FACE_LIVENESS_FACE_SHARE,
                splice_tolerance=settings.FACE_SPLICE_TOLERANCE,
                infos=_read_infos(attempt.frames_dir, attempt.frame_count),
            )
            reason = verdict.reason
        except (engine.UploadRejected, OSError):
            reason = Reason.UNREADABLE
    if verdict is not None and verdict.hashes:
        memory = DatabaseReplayMemory()
        replay_of = engine.replay_find(verdict.hashes, memory)
        memory.remember(attempt.pk, verdict.hashes)
        if replay_of is not None:
            reason = Reason.REPLAY
    attempt = _attempt_record(attempt=attempt, verdict=verdict, reason=reason, replay_of=replay_of)
    if settings.FACE_FRAME_RETENTION_DAYS <= 0:
        _frames_drop(attempt.pk, attempt.frames_dir, timezone.now())
    return attempt


@transaction.atomic
def _attempt_record(*, attempt: FaceAttempt, verdict: engine.Verdict | None, reason: str,
                    replay_of: Any = None) -> FaceAttempt:
    today = rules.today_local()
    attempt.state = FaceAttempt.State.DONE
    attempt.decided_at = timezone.now()
    attempt.reason = reason
    attempt.passed = not reason
    if verdict is not None:
        attempt.distance = verdict.distance
        attempt.liveness_ok = verdict.liveness_ok
        attempt.liveness_detail = {
            "challenge": attempt.session.challenge, "schedule": attempt.session.schedule,
            "frames": verdict.liveness_frames, "distinct_frames": verdict.distinct_frames,
            "face_share": round(verdict.face_share, 3), "splice_distance": verdict.splice_distance,
            "replay_of": replay_of,
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
    if not attempt.passed:
        _exhaustion_mark(attempt.pensioner_id, attempt.occurred_on)
    audit_log(actor=attempt.user, action="face_attempt", pensioner=attempt.pensioner, attempt_id=attempt.pk,
              passed=attempt.passed, reason=attempt.reason, distance=attempt.distance)
    return attempt


def _notify_proxy(certification_id: int) -> None:
    from notifications.services import notify_proxy_certification

    notify_proxy_certification(certification_id=certification_id)


PURGE_BATCH = 500  # attempts per run; deleting ~40 small files each takes ~1 s a batch on local disk
STUCK_AFTER = dt.timedelta(minutes=30)  # a PENDING/RUNNING attempt this old has lost its worker


def frames_purge(*, now: dt.datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """One bounded batch of the PIPL purge (see frames_purge_batch); returns how many rows it cleared."""
    return frames_purge_batch(now=now, batch=batch)[0]


def frames_purge_batch(*, now: dt.datetime | None = None, batch: int = PURGE_BATCH) -> tuple[int, bool]:
    """One bounded batch of PIPL clean-up. Returns (rows cleared, whether any part came back full).

    - open sessions past their expiry: closed as abandoned (a failed attempt), frames deleted;
    - frames of decided attempts past FACE_FRAME_RETENTION_DAYS;
    - frames of attempts stuck in PENDING or RUNNING (a crashed worker): deleted after STUCK_AFTER
      whatever the retention, and the attempt is closed as unreadable so a late retry finds nothing;
    - replay hashes older than FACE_REPLAY_DAYS.
    Each part walks by primary key and stops at `batch`; the task runs again while a part is full.
    """
    now = now or timezone.now()
    abandoned = attempts_abandon(now=now, limit=batch)
    cutoff = now - dt.timedelta(days=max(settings.FACE_FRAME_RETENTION_DAYS, 0))
    kept = list(FaceAttempt.objects.filter(frames_deleted_at__isnull=True, created_at__lt=cutoff,
                                           state=FaceAttempt.State.DONE).exclude(frames_dir="")
                .order_by("pk").values_list("id", "frames_dir")[:batch])
    for attempt_id, folder in kept:
        _frames_drop(attempt_id, folder, now)
    stuck = list(FaceAttempt.objects.filter(frames_deleted_at__isnull=True, created_at__lt=now - STUCK_AFTER,
                                            state__in=[FaceAttempt.State.PENDING, FaceAttempt.State.RUNNING])
                 .order_by("pk").values_list("id", "frames_dir", "pensioner_id", "occurred_on")[:batch])
    for attempt_id, folder, pid, day in stuck:
        FaceAttempt.objects.filter(pk=attempt_id, state__in=[FaceAttempt.State.PENDING, FaceAttempt.State.RUNNING]
                                   ).update(state=FaceAttempt.State.DONE, passed=False, reason=Reason.UNREADABLE,
                                            decided_at=now)
        _frames_drop(attempt_id, folder, now)
        _exhaustion_mark(pid, day)
    hash_batch = batch * 40  # ~40 frames an attempt
    old = list(FrameHash.objects.filter(created_at__lt=now - dt.timedelta(days=settings.FACE_REPLAY_DAYS))
               .order_by("pk").values_list("pk", flat=True)[:hash_batch])
    if old:
        FrameHash.objects.filter(pk__in=old).delete()
    full = batch in (abandoned, len(kept), len(stuck)) or len(old) == hash_batch
    return abandoned + len(kept) + len(stuck) + len(old), full


# ---- what pages and the API show ---------------------------------------------------------------

@dataclass(frozen=True)
class VerdictView:
    status: str  # pending | passed | failed
    reason: str
    message: str
    valid_until: dt.date | None
    exhausted: bool  # 5 failures today: no retry, only the other channels
    tries_left: int = 0
    in_queue: bool = False  # staff work this person's case (warning or suspended): "工作人员也会联系您" is true


def verdict_for(attempt: FaceAttempt) -> VerdictView:
    if attempt.state != FaceAttempt.State.DONE:
        return VerdictView("pending", "", _("正在核验，请稍候……"), None, False)
    if attempt.passed:
        attempt.pensioner.refresh_from_db(fields=["valid_until"])
        return VerdictView("passed", "", _("认证成功。"), attempt.pensioner.valid_until, False)
    attempt.pensioner.refresh_from_db(fields=["status"])
    left = tries_left(attempt.pensioner, attempt.occurred_on)
    return VerdictView("failed", attempt.reason, _(REASON_TEXT.get(attempt.reason, gettext_noop("认证没有通过。"))),
                       None, left == 0, left, attempt.pensioner.status in (Status.WARNING, Status.SUSPENDED))


def prompts_text(challenge: Iterable[str]) -> list[str]:
    return [_(PROMPT_TEXT[c]) for c in challenge]
