"""Face certification: reference encodings, consent, challenge sessions, attempts.

PIPL: no raw image is kept here. Uploaded frames live in storage only until the
decision (or for FACE_FRAME_RETENTION_DAYS when that is set); what stays is the
distance, the liveness result, the reason, the timings and the user agent.
"""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReferenceFace(models.Model):
    class Source(models.TextChoices):
        BULK = "bulk", _("批量导入证件照")
        COUNTER = "counter", _("窗口现场采集")
        COMMAND = "command", _("命令行登记")

    pensioner = models.OneToOneField(
        "certification.Pensioner", on_delete=models.CASCADE, related_name="reference_face", verbose_name="退休人员"
    )
    encoding = models.BinaryField("人脸特征（128维）")  # float64 × 128, never the photo itself
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    source_ref = models.CharField("来源文件", max_length=200, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "人脸底库"

    def __str__(self) -> str:
        return f"reference #{self.pk} ({self.source})"

    def vector(self) -> np.ndarray:
        return np.frombuffer(bytes(self.encoding), dtype=np.float64)


class Mode(models.TextChoices):
    SELF = "self", _("本人认证")
    PROXY = "proxy", _("代他人认证")


class Consent(models.Model):
    """Explicit consent before the camera opens (DESIGN §6), one row per time it is given."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="face_consents")
    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="face_consents")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    helper_relationship = models.CharField("与本人关系", max_length=32, blank=True)
    text_version = models.CharField(max_length=16)
    channel = models.CharField(max_length=8, default="web")  # web | api
    user_agent = models.CharField(max_length=300, blank=True)
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "人脸认证授权记录"

    def __str__(self) -> str:
        return f"consent #{self.pk} ({self.mode})"


class FaceSession(models.Model):
    """A server-led liveness challenge: a nonce, prompts issued one at a time at moments the
    server chose (`schedule`, ms after `created_at`), frames stamped on arrival, one use."""

    nonce = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="face_sessions")
    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="face_sessions")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="sessions")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    helper_relationship = models.CharField(max_length=32, blank=True)
    challenge = models.JSONField()  # ["turn_left", "open_mouth"]: the kinds, in order (never sent ahead)
    schedule = models.JSONField(default=list)  # [{"kind": "turn_left", "at_ms": 2300}, …]
    capture_ms = models.PositiveIntegerField(default=0)  # the page stops capturing at this moment
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "人脸认证挑战"

    def __str__(self) -> str:
        return f"session #{self.pk} {self.challenge}"


class Reason(models.TextChoices):
    NONE = "", _("通过")
    NO_FACE = "no_face", _("没有找到人脸")
    MULTIPLE_FACES = "multiple_faces", _("画面里不止一个人")
    NO_MATCH = "no_match", _("不是本人")
    NO_LIVENESS = "no_liveness", _("没有做出要求的动作")
    EXPIRED = "expired", _("超时")
    ABANDONED = "abandoned", _("中途放弃")
    REPLAY = "replay", _("画面以前提交过")
    SPLICED = "spliced", _("中途换了人")
    UNREADABLE = "unreadable", _("图片无法读取")
    NO_REFERENCE = "no_reference", _("没有登记底库照片")


class FaceAttempt(models.Model):
    class State(models.TextChoices):
        CAPTURING = "capturing", _("正在拍摄")
        PENDING = "pending", _("等待核验")
        RUNNING = "running", _("正在核验")
        DONE = "done", _("已完成")

    session = models.OneToOneField(FaceSession, on_delete=models.CASCADE, related_name="attempt")
    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="face_attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="face_attempts")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CAPTURING)
    passed = models.BooleanField(null=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    distance = models.FloatField(null=True, blank=True)
    tolerance = models.FloatField(null=True, blank=True)
    liveness_ok = models.BooleanField(null=True)
    liveness_detail = models.JSONField(default=dict, blank=True)
    frame_count = models.PositiveSmallIntegerField(default=0)
    bytes_total = models.PositiveIntegerField(default=0)
    timings_ms = models.JSONField(default=dict, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    arrivals_ms = models.JSONField(default=list, blank=True)  # server arrival stamp of each stored frame
    frames_dir = models.CharField(max_length=200, blank=True)
    frames_deleted_at = models.DateTimeField(null=True, blank=True)
    certification = models.ForeignKey(
        "certification.Certification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_on = models.DateField()  # local date, for "5 failures a day"
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "人脸认证记录"
        indexes = [
            # "Failed attempts today" for one person: the daily limit.
            models.Index(fields=["pensioner", "occurred_on"], name="faceattempt_day_idx"),
            # The retention purge walks only rows whose frames are still on disk.
            models.Index(fields=["created_at"], name="faceattempt_frames_idx", condition=Q(frames_deleted_at__isnull=True) & ~Q(frames_dir="")),
        ]

    def __str__(self) -> str:
        return f"attempt #{self.pk} {self.reason or 'passed'}"


class FrameHash(models.Model):
    """Replay memory: the 64-bit perceptual hash of each frame of every submitted sequence, for
    FACE_REPLAY_DAYS. Not a face template: a whole-frame DCT sign pattern, which cannot be turned
    back into a picture. The four 16-bit bands are indexed: a re-encoded frame differs from its
    original by a few bits, so at least one band of a near-duplicate matches exactly."""

    attempt = models.ForeignKey(FaceAttempt, on_delete=models.CASCADE, related_name="frame_hashes")
    idx = models.PositiveSmallIntegerField()
    phash = models.BigIntegerField()
    band0 = models.IntegerField()
    band1 = models.IntegerField()
    band2 = models.IntegerField()
    band3 = models.IntegerField()
    created_at = models.DateTimeField(db_index=True)  # the purge drops rows older than the replay window

    class Meta:
        verbose_name = verbose_name_plural = "防重放画面指纹"
        indexes = [models.Index(fields=[f"band{k}"], name=f"framehash_band{k}_idx") for k in range(4)]

    def __str__(self) -> str:
        return f"frame hash {self.attempt_id}/{self.idx}"


class BulkEnrolment(models.Model):
    """One run of the bulk ID-photo import, with progress and per-file errors."""

    class State(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    folder = models.CharField(max_length=500)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"file", "reason", "message"}]
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "证件照批量导入"

    def __str__(self) -> str:
        return f"bulk enrolment #{self.pk} {self.state}"
