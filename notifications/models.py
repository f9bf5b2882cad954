"""The notification outbox: every message is a row before it is sent (STYLE §3).

A crash between "decide to notify" and "send" loses nothing: the row waits in
`queued` until a drain claims it. The dedup key makes every event idempotent, so
re-running the nightly scheduler sends nothing twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Message(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败（将重试）"
        PERMANENTLY_FAILED = "permanently_failed", "发送失败（不再重试）"

    class Channel(models.TextChoices):
        SMS = "sms", "短信"

    pensioner = models.ForeignKey(
        "certification.Pensioner", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices, default=Channel.SMS)
    recipient = models.CharField("接收号码", max_length=32)
    template = models.CharField("模板", max_length=48)
    text = models.TextField("内容")
    dedup_key = models.CharField("去重键", max_length=200, unique=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    provider_id = models.CharField("服务商编号", max_length=128, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    next_attempt_at = models.DateTimeField("下次发送时间")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "通知消息"
        indexes = [
            # Used by the drain: only rows still waiting, oldest due first.
            models.Index(
                fields=["next_attempt_at", "id"], name="message_due_idx",
                condition=Q(status__in=["queued", "failed"]),
            ),
            # Used by the drain's stale-claim sweep (a worker killed mid-send).
            models.Index(fields=["claimed_at"], name="message_sending_idx", condition=Q(status="sending")),
            # The staff queue counts reminders per pensioner on one page of rows.
            models.Index(fields=["pensioner", "status"], name="message_pensioner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.status})"


class ScheduleRun(models.Model):
    """One night's scheduling (notifications.scheduling.schedule_due). Certification messages are
    looked for since the previous night that ran, however long ago, not in a fixed window."""

    day = models.DateField("日期", unique=True)
    started_at = models.DateTimeField("开始时间")

    class Meta:
        verbose_name = verbose_name_plural = "通知排程记录"

    def __str__(self) -> str:
        return f"schedule {self.day}"
