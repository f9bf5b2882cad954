"""The street office's own cases: appeals and death revocations (DESIGN §1, §5).

Death records to verify or in conflict are bigdata.DeathRecord rows and fraud alerts
are bigdata.FraudAlert rows; the case list (selectors.cases_for) shows all of them.
Every write goes through .services, with an audit row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    APPEAL = "appeal", _("异议申请")
    DEATH_CONFLICT = "death_conflict", _("死亡记录与当面认证冲突")
    DEATH_VERIFY = "death_verify", _("死亡记录待核实")
    FRAUD_ALERT = "fraud_alert", _("冒领预警")
    REVOCATION = "revocation", _("撤销死亡待复核")


class Appeal(models.Model):
    """我有异议: "I am alive", "I was certified", or something else, with a short text."""

    class Kind(models.TextChoices):
        ALIVE = "alive", _("我还健在，被错误登记为死亡")
        CERTIFIED = "certified", _("我已经认证过，被错误暂停发放")
        OTHER = "other", _("其他问题")

    class Via(models.TextChoices):
        PENSIONER = "pensioner", _("本人在网上提交")
        RELATIVE = "relative", _("亲属代为提交")
        STAFF = "staff", _("工作人员代为登记（来电/来访）")

    class State(models.TextChoices):
        OPEN = "open", _("处理中")
        ANSWERED = "answered", _("已答复")

    class Outcome(models.TextChoices):
        CERTIFIED = "certified", _("已认证")
        CORRECTED = "corrected", _("已更正记录")
        REJECTED = "rejected", _("经核实不予支持")

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="appeals")
    kind = models.CharField("异议类型", max_length=16, choices=Kind.choices)
    text = models.CharField("说明", max_length=300, blank=True)
    via = models.CharField("提交方式", max_length=16, choices=Via.choices)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.OPEN)
    opened_on = models.DateField("提交日期")
    due_on = models.DateField("答复期限")
    outcome = models.CharField("处理结果", max_length=16, choices=Outcome.choices, blank=True)
    channel = models.CharField("认证方式", max_length=16, blank=True)
    answer = models.CharField("答复", max_length=300, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = verbose_name_plural = "异议申请"
        constraints = [
            # One open appeal per person: a second tap (or a relative and the phone line
            # on the same day) does not open a second case.
            models.UniqueConstraint(fields=["pensioner"], condition=Q(state="open"), name="appeal_one_open"),
        ]
        indexes = [models.Index(fields=["state", "opened_on"], name="appeal_open_idx",
                                condition=Q(state="open"))]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.kind} ({self.state})"


class Revocation(models.Model):
    """A wrong death, reversed by two people: recorded with a reason, confirmed by a second."""

    class State(models.TextChoices):
        PENDING = "pending", _("待第二人确认")
        CONFIRMED = "confirmed", _("已撤销死亡")
        REFUSED = "refused", _("复核未通过")

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="revocations")
    death_record = models.ForeignKey("bigdata.DeathRecord", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="revocations")
    death_date = models.DateField("被撤销的死亡日期")
    reason = models.CharField("撤销原因", max_length=300)
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.SET_NULL, related_name="revocations")
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decision_note = models.CharField("复核说明", max_length=300, blank=True)
    opened_on = models.DateField("登记日期")
    due_on = models.DateField("复核期限")
    decided_at = models.DateTimeField(null=True, blank=True)
    # What the confirmation did (back-pay months and total, overpayment cancelled, …).
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = verbose_name_plural = "撤销死亡登记"
        constraints = [
            models.UniqueConstraint(fields=["pensioner"], condition=Q(state="pending"),
                                    name="revocation_one_pending"),
        ]
        indexes = [models.Index(fields=["state", "opened_on"], name="revocation_open_idx",
                                condition=Q(state="pending"))]

    def __str__(self) -> str:
        return f"{self.pensioner_id}: {self.death_date} ({self.state})"


class CalendarDay(models.Model):
    """The working-day calendar of case deadlines (.rules.WorkCalendar), kept by staff in the admin.

    Monday–Friday are working days unless listed as a holiday (放假); a Saturday or Sunday
    is one when listed as a make-up working day (调休上班). Each year's days come from the
    State Council's notice on public holidays (国务院办公厅关于…部分节假日安排的通知),
    published around November for the next year: see docs/death-lifecycle.md.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    day = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    name = models.CharField("节日", max_length=40, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = verbose_name_plural = "节假日与调休"

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()} {self.name}"
