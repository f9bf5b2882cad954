"""The street-office warning queue's own records: contacts, home visits, death reports, requests.

The pensioner row belongs to the domain core; everything staff do about a person
is a row here, written by certification.staff.services with an audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("已联系上")
    NO_ANSWER = "no_answer", _("无人接听")
    WRONG_NUMBER = "wrong_number", _("号码错误")
    HOSPITALISED = "hospitalised", _("住院")
    REPORTED_DECEASED = "reported_deceased", _("家属告知已去世")
    MOVED_AWAY = "moved_away", _("已迁走")


class ContactAttempt(models.Model):
    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="contacts")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField("联系结果", max_length=24, choices=CallOutcome.choices)
    note = models.CharField("备注", max_length=200, blank=True)
    at = models.DateTimeField("联系时间", auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "电话联系记录"
        indexes = [models.Index(fields=["pensioner", "-at"], name="contact_history_idx")]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.outcome}"



class QueueState(models.Model):
    """The latest contact per pensioner, kept by the contact service, so the queue can
    show and filter on it without a per-row subquery over the contact history."""

    pensioner = models.OneToOneField(
        "certification.Pensioner", primary_key=True, on_delete=models.CASCADE, related_name="queue_state"
    )
    last_contact_at = models.DateTimeField()
    last_outcome = models.CharField(max_length=24, choices=CallOutcome.choices)

    class Meta:
        verbose_name = verbose_name_plural = "最近联系"
        indexes = [models.Index(fields=["last_outcome"], name="queuestate_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.last_outcome}"



class VisitReason(models.TextChoices):
    AGED_80 = "aged_80", _("80岁以上")
    SERIOUSLY_ILL = "seriously_ill", _("重病卧床")
    DISABLED = "disabled", _("残疾、行动不便")
    OTHER = "other", _("其他原因")


class HomeVisitRequest(models.Model):
    """预约上门认证: asked for online by the pensioner or a relative."""

    class State(models.TextChoices):
        PENDING = "pending", _("待安排")
        SCHEDULED = "scheduled", _("已安排")
        CANCELLED = "cancelled", _("已取消")

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="visit_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField("原因", max_length=16, choices=VisitReason.choices)
    reason_note = models.CharField("补充说明", max_length=200, blank=True)
    preferred_dates = models.JSONField("希望日期", default=list)
    contact_phone = models.CharField("联系电话", max_length=20)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = "上门认证预约"
        constraints = [
            # One open request per person: a second click does not queue the visit twice.
            models.UniqueConstraint(fields=["pensioner"], condition=Q(state="pending"),
                                    name="visitrequest_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.reason} ({self.state})"



class HomeVisit(models.Model):
    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", _("已安排")
        CERTIFIED = "certified", _("已当面认证")
        NOT_HOME = "not_home", _("未见到本人")
        UNABLE = "unable", _("无法认证")

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="home_visits")
    request = models.ForeignKey(HomeVisitRequest, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="visits")
    visit_on = models.DateField("上门日期")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                 verbose_name="上门人员")
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices, default=Outcome.SCHEDULED)
    outcome_note = models.CharField("情况说明", max_length=200, blank=True)
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    certification = models.ForeignKey("certification.Certification", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visit_on", "-id"]
        verbose_name = verbose_name_plural = "上门认证"
        indexes = [models.Index(fields=["pensioner", "outcome"], name="homevisit_pensioner_idx")]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.visit_on} ({self.outcome})"



class DeathReport(models.Model):
    """A staff report of a death: pending until a second person confirms (four eyes)."""

    class State(models.TextChoices):
        PENDING = "pending", _("待复核")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("已驳回")

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="death_reports")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    death_date = models.DateField("死亡日期")
    evidence_ref = models.CharField("证明文件编号", max_length=64)
    note = models.CharField("备注", max_length=200, blank=True)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "死亡报告"
        constraints = [
            models.UniqueConstraint(fields=["pensioner"], condition=Q(state="pending"), name="deathreport_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.death_date} ({self.state})"
