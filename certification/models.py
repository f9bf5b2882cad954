"""The domain core: offices, pensioners, certifications, status changes, money."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from . import idnumber
from .rules import Status


class District(models.Model):
    code = models.CharField("区划代码", max_length=6, unique=True)
    name = models.CharField("区（市）", max_length=32, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "区（市）"

    def __str__(self) -> str:
        return self.name


class StreetOffice(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="offices")
    name = models.CharField("街道（镇）", max_length=64)
    counter_address = models.CharField("服务窗口地址", max_length=200, blank=True)
    counter_hours = models.CharField(
        "办公时间", max_length=100, blank=True, default="周一至周五 9:00-12:00，13:30-17:00"
    )
    counter_phone = models.CharField("咨询电话", max_length=32, blank=True)

    class Meta:
        ordering = ["district__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="office_unique_in_district")
        ]
        verbose_name = verbose_name_plural = "街道办事处"

    def __str__(self) -> str:
        return f"{self.district.name}/{self.name}"


class Community(models.Model):
    street_office = models.ForeignKey(StreetOffice, on_delete=models.PROTECT, related_name="communities")
    name = models.CharField("社区", max_length=64)

    class Meta:
        ordering = ["street_office_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["street_office", "name"], name="community_unique_in_office")
        ]
        verbose_name = verbose_name_plural = "社区"

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PENSIONER = "pensioner", _("退休人员")
    RELATIVE = "relative", _("亲属/代办人")
    STAFF = "staff", _("街道工作人员")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.STAFF)
    phone = models.CharField("手机号", max_length=20, blank=True, db_index=True)
    phone_verified_at = models.DateTimeField("手机验证时间", null=True, blank=True)
    # Staff may serve several offices; administrators see all of them.
    street_offices = models.ManyToManyField(StreetOffice, blank=True, related_name="staff", verbose_name="所属街道")
    pensioner = models.OneToOneField(
        "Pensioner", null=True, blank=True, on_delete=models.CASCADE, related_name="account"
    )

    class Meta:
        verbose_name = verbose_name_plural = "用户"
        permissions = [("unmask_pii", "可查看完整身份证号和手机号")]

    @property
    def display_name(self) -> str:
        """Chinese order: family name first, no space (get_full_name() would print "小明 林")."""
        return f"{self.last_name}{self.first_name}".strip() or self.username

    @property
    def is_portal_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_staff_member(self) -> bool:
        return self.role == Role.STAFF


class BenefitType(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业职工基本养老金")
    PUBLIC = "public", _("机关事业单位养老金")
    RESIDENT = "resident", _("城乡居民基本养老金")


class SpecialGroup(models.TextChoices):
    NONE = "", _("无")
    AGED_80 = "aged_80", _("80岁以上高龄")
    SERIOUSLY_ILL = "seriously_ill", _("重病")
    DISABLED = "disabled", _("残疾")


PUBLIC_KEY_LENGTH = 32  # 128 random bits as lower-case hex: URL-safe, unguessable, fixed length


def new_public_key() -> str:
    return secrets.token_hex(PUBLIC_KEY_LENGTH // 2)


class RandomPublicKey(models.Func):
    """The database's own 128 random bits as 32 hex digits: the column default, so rows
    written by COPY or raw SQL (benchmarks, bulk loaders) get a key too."""

    output_field = models.CharField()

    def as_sql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        if connection.vendor == "postgresql":
            # gen_random_uuid() is built in since PostgreSQL 13 and uses the strong random source;
            # its 6 fixed version/variant bits leave 122 random bits.
            return "replace(gen_random_uuid()::text, '-', '')", []
        return "lower(hex(randomblob(16)))", []


class Pensioner(models.Model):
    id_number = models.CharField("身份证号", max_length=18, unique=True)
    # The opaque key in every staff URL and API route (DESIGN §4): ID numbers never
    # appear in URLs, and so never in access logs.
    # Unique through Meta.constraints, not unique=True: that would add a second
    # varchar_pattern_ops index on PostgreSQL, for LIKE queries this key never gets.
    public_key = models.CharField("公开编号", max_length=PUBLIC_KEY_LENGTH, editable=False,
                                  default=new_public_key, db_default=RandomPublicKey())
    name = models.CharField("姓名", max_length=64)
    birth_date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=1, choices=[("M", "男"), ("F", "女")])
    phone = models.CharField("手机号", max_length=20, blank=True)
    phone_invalid = models.BooleanField("手机号无效", default=False)
    address = models.CharField("住址", max_length=200, blank=True)
    street_office = models.ForeignKey(StreetOffice, on_delete=models.PROTECT, related_name="pensioners")
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="pensioners")
    benefit_type = models.CharField("待遇类型", max_length=16, choices=BenefitType.choices, default=BenefitType.ENTERPRISE)
    monthly_amount = models.DecimalField("月养老金（元）", max_digits=10, decimal_places=2)
    valid_until = models.DateField("认证有效期至")
    # The payment system's own date, as the roster last imported it. valid_until falls
    # back to it (and the remaining certifications) when post-death evidence is voided.
    roster_valid_until = models.DateField("花名册有效期至", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=[(s.value, s.value) for s in Status], default=Status.ACTIVE)
    suspended_since = models.DateField("暂停发放日期", null=True, blank=True)
    death_date = models.DateField("死亡日期", null=True, blank=True)
    special_group = models.CharField("特殊群体", max_length=16, choices=SpecialGroup.choices, blank=True, default="")
    relative_phone = models.CharField("亲属联系电话", max_length=20, blank=True)
    enrolled_on = models.DateField("纳入认证日期")
    face_attempts_exhausted_on = models.DateField("人脸认证次数用尽日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "退休人员"
        indexes = [
            # The nightly transitions query only rows that are due: status + valid_until.
            models.Index(fields=["status", "valid_until"], name="pensioner_due_idx"),
            # The staff queue: one office, warning/suspended, sorted by valid_until.
            models.Index(fields=["street_office", "status", "valid_until"], name="pensioner_queue_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(monthly_amount__gte=0), name="pensioner_amount_not_negative"),
            models.UniqueConstraint(fields=["public_key"], name="pensioner_public_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{idnumber.mask(self.id_number)}）"

    @property
    def masked_id(self) -> str:
        return idnumber.mask(self.id_number)

    @property
    def masked_phone(self) -> str:
        return idnumber.mask_phone(self.phone)


class Method(models.TextChoices):
    BIG_DATA = "big_data", _("大数据比对")
    FACE_SELF = "face_self", _("本人刷脸认证")
    FACE_PROXY = "face_proxy", _("亲属代为刷脸认证")
    COUNTER = "counter", _("窗口认证")
    VIDEO = "video", _("视频认证")
    HOME_VISIT = "home_visit", _("上门认证")


class Certification(models.Model):
    pensioner = models.ForeignKey(Pensioner, on_delete=models.CASCADE, related_name="certifications")
    method = models.CharField("方式", max_length=16, choices=Method.choices)
    occurred_on = models.DateField("认证日期")
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="helped_certifications"
    )
    helper_relationship = models.CharField("与本人关系", max_length=32, blank=True)
    source = models.CharField("数据来源", max_length=32, blank=True)
    evidence_ref = models.CharField("凭证编号", max_length=128, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    # Evidence dated after a death is never a certification (DESIGN §1): one recorded
    # before the death arrived is kept, marked void and shown to staff.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    void_reason = models.CharField("作废原因", max_length=64, blank=True, db_default="")

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = verbose_name_plural = "认证记录"
        indexes = [
            models.Index(fields=["pensioner", "-occurred_on"], name="cert_history_idx"),
            # Used by the matching's fraud step: the (few) voided rows.
            models.Index(fields=["voided_at"], condition=Q(voided_at__isnull=False), name="cert_voided_idx"),
        ]
        constraints = [
            # One big-data certification per evidence record: a rerun adds nothing.
            models.UniqueConstraint(
                fields=["pensioner", "source", "evidence_ref"],
                condition=Q(method="big_data"),
                name="cert_big_data_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.occurred_on}"

class StatusChange(models.Model):
    """Every status change is a row; reminders and dashboards read these."""

    pensioner = models.ForeignKey(Pensioner, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=16)
    new_status = models.CharField(max_length=16)
    effective_on = models.DateField()
    reason = models.CharField(max_length=64)
    valid_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when schedule_due has claimed the row (a conditional UPDATE), so every
    # event is sent exactly once however many nights were missed.
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "状态变更"
        indexes = [
            models.Index(fields=["effective_on", "new_status"], name="statuschange_day_idx"),
            # Used by schedule_due: only the rows not yet claimed.
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="statuschange_unclaimed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.old_status} → {self.new_status} ({self.effective_on})"

class BackPay(models.Model):
    """One back-pay statement: the months a move of valid_until made payable (certification.effects)."""

    pensioner = models.ForeignKey(Pensioner, on_delete=models.CASCADE, related_name="back_pays")
    # The date payment had been withheld from (the suspension, or the first unpaid month).
    suspended_since = models.DateField()
    restored_on = models.DateField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    # Set when a roster has paid every line (certification.ledger.roster_close).
    paid_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=64, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "补发"
        indexes = [models.Index(fields=["pensioner", "restored_on"], name="backpay_pensioner_idx")]

    def __str__(self) -> str:
        return f"补发 {self.total} 元（{self.suspended_since} 起暂停）"

class BackPayLine(models.Model):
    back_pay = models.ForeignKey(BackPay, on_delete=models.CASCADE, related_name="lines")
    pensioner = models.ForeignKey(Pensioner, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    # The roster month whose closing paid this line (null: waiting for the next open month).
    paid_in = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(fields=["back_pay", "month"], name="backpay_line_month_once"),
            # A month is back-paid at most once to a person, however often validity moves.
            models.UniqueConstraint(fields=["pensioner", "month"], name="backpay_line_once_per_person_month"),
        ]
        indexes = [
            # Used by roster_close: the lines still waiting for a roster.
            models.Index(fields=["id"], condition=Q(paid_in__isnull=True), name="backpayline_unpaid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.amount}"

class Overpayment(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("待追回")
        RECOVERED = "recovered", _("已追回")
        WAIVED = "waived", _("已核销")
        # The death was revoked (issue 10): nothing was owed.
        CANCELLED = "cancelled", _("已撤销（死亡登记撤销）")

    pensioner = models.ForeignKey(Pensioner, on_delete=models.CASCADE, related_name="overpayments")
    death_date = models.DateField()
    months = models.JSONField(default=list)  # ["2026-07-01", ...]
    total = models.DecimalField(max_digits=12, decimal_places=2)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    opened_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    # A recovered case whose death was revoked (issue 10): the amount to pay back, set by
    # the writer, and the roster month whose closing paid it (certification.ledger).
    refund = models.DecimalField("应退还金额", max_digits=12, decimal_places=2, db_default=0)
    refunded_in = models.DateField("退还所在花名册月份", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "多发待追回"
        # One case per death: a person wrongly recorded dead twice has two cases (the first
        # cancelled by its revocation), each recovered and refunded on its own. Only one can
        # be open at a time; the writer's INSERT ... ON CONFLICT DO NOTHING relies on that.
        constraints = [models.UniqueConstraint(fields=["pensioner"], condition=Q(state="open"),
                                               name="overpayment_open_once_per_pensioner")]

    def __str__(self) -> str:
        return f"多发 {self.total} 元（死亡日期 {self.death_date}）"

class RosterMonth(models.Model):
    """A payment month whose roster has been closed (export_payment_roster, DESIGN §2, §4). Never reopened."""

    month = models.DateField("发放月份", unique=True)  # the 1st
    closed_on = models.DateField("关闭日期")
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["month"]
        verbose_name = verbose_name_plural = "已关闭的发放月份"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class LedgerEntry(models.Model):
    """The payment ledger: what a closed roster recorded (DESIGN §2).

    `pay` and `back_pay` rows are payments, one per (pensioner, month) under a unique
    constraint, so no month is ever paid twice. `suspended` and `overpayment` rows are
    the roster's other sections, kept so a re-export writes exactly what was recorded.
    A `refund` row pays back one cancelled overpayment case (`overpayment`), once per case.
    """

    class Kind(models.TextChoices):
        PAY = "pay", _("正常发放")
        BACK_PAY = "back_pay", _("恢复补发")
        SUSPENDED = "suspended", _("暂停发放")
        OVERPAYMENT = "overpayment", _("多发追回")
        # An overpayment already recovered, paid back after its death was revoked (issue 10).
        REFUND = "refund", _("退还已追回款")

    PAID_KINDS = (Kind.PAY, Kind.BACK_PAY)

    roster_month = models.DateField("所在花名册月份")
    pensioner = models.ForeignKey(Pensioner, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    month = models.DateField("所属月份")  # the month paid for (back-pay: the missed month)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True, default="")
    # A `refund` row's case: each cancelled overpayment is paid back once (issue 10). No index
    # of its own: the partial unique index below holds the only non-empty values.
    overpayment = models.ForeignKey(Overpayment, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="refund_entries", db_index=False, verbose_name="退还的多发案件")

    class Meta:
        ordering = ["roster_month", "kind", "pensioner_id", "month"]
        verbose_name = verbose_name_plural = "发放台账"
        constraints = [
            models.UniqueConstraint(fields=["pensioner", "month"], condition=Q(kind__in=["pay", "back_pay"]),
                                    name="ledger_paid_once_per_person_month"),
            # One row per section, person and month; refund rows once per case in it (two refunds of
            # one person can close in the same roster). Every other row has no case: the same rule
            # as before, and the index still leads with roster_month for a month's rows.
            models.UniqueConstraint("roster_month", "kind", "pensioner", "month", Coalesce("overpayment", Value(0)),
                                    name="ledger_row_once"),
            # A recovered overpayment is paid back once per case (a person may have several cases).
            models.UniqueConstraint(fields=["overpayment"], condition=Q(overpayment__isnull=False),
                                    name="ledger_refund_once_per_case"),
            models.CheckConstraint(condition=Q(overpayment__isnull=True) | Q(kind="refund"),
                                   name="ledger_case_only_on_refund"),
        ]

    def __str__(self) -> str:
        return f"{self.roster_month:%Y-%m} {self.kind} {self.month:%Y-%m} {self.amount}"


class AuditLog(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64)
    pensioner = models.ForeignKey(Pensioner, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_rows")
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "审计日志"
        indexes = [models.Index(fields=["pensioner", "-at"], name="audit_pensioner_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

class SmsCode(models.Model):
    """A one-time sign-in code. Only its hash is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    purpose = models.CharField(max_length=16)  # pensioner | relative
    subject = models.CharField(max_length=32)  # the ID number or phone it signs in
    code_hash = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["subject", "purpose", "-created_at"], name="smscode_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"
