"""Evidence feeds from other agencies, and the nightly matching's bookkeeping (DESIGN §1, §4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from certification.idnumber import bucket_of


class DeathAction(models.TextChoices):
    IMMEDIATE = "immediate", "立即停发"
    VERIFY = "verify", "街道核实后停发"


class EvidenceSource(models.Model):
    """One agency feed. Seeded by migration 0004; editable in the admin."""

    class Kind(models.TextChoices):
        QUALIFYING = "qualifying", "生存证据"
        DEATH = "death", "死亡证据"

    code = models.CharField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    # 1 (weak) … 5 (authoritative). Informational for staff and dashboards: every
    # enabled qualifying source confirms life equally (DESIGN §1).
    trust_level = models.PositiveSmallIntegerField("可信等级", default=3)
    # A disabled source's feeds are refused and its stored records are not applied.
    enabled = models.BooleanField("启用", default=True)
    # What a death record from this source does (DESIGN §1 trust levels): act at once,
    # or open a death_verify case and keep paying until staff confirm. Qualifying
    # sources ignore it.
    death_action = models.CharField("死亡记录处理方式", max_length=16, choices=DeathAction.choices,
                                    default=DeathAction.IMMEDIATE)
    description = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = verbose_name_plural = "数据来源"
        constraints = [
            models.CheckConstraint(condition=Q(trust_level__gte=1) & Q(trust_level__lte=5), name="source_trust_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


def _feed_upload_to(instance: EvidenceBatch, filename: str) -> str:
    return f"feeds/{instance.source.code}/{filename}"


class EvidenceBatch(models.Model):
    """One imported feed file, with its bucket counts and its errors file."""

    class Status(models.TextChoices):
        PENDING = "pending", "待处理"
        PROCESSING = "processing", "处理中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    source = models.ForeignKey(EvidenceSource, on_delete=models.PROTECT, related_name="batches", verbose_name="数据来源")
    file = models.FileField("数据文件", upload_to=_feed_upload_to, max_length=300, blank=True)
    original_name = models.CharField("原文件名", max_length=255, blank=True)
    encoding = models.CharField("编码", max_length=16, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveIntegerField("总行数", default=0)
    accepted = models.PositiveIntegerField("已接收", default=0)
    duplicates = models.PositiveIntegerField("重复", default=0)
    rejected = models.PositiveIntegerField("拒收", default=0)
    unmatched = models.PositiveIntegerField("未匹配", default=0)
    errors_file = models.FileField("错误文件", max_length=300, blank=True)
    failure = models.CharField("失败原因", max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="上传人",
    )
    partner_token = models.ForeignKey(
        "PartnerToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="batches",
        verbose_name="合作方令牌",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "数据批次"

    def __str__(self) -> str:
        return f"#{self.pk} {self.source.code} {self.original_name}"


class Evidence(models.Model):
    """One record from a feed: a person was seen alive (or dead) on `event_date`.

    Written only by set-based SQL (import staging, nightly matching). The foreign
    keys carry no database constraint: a per-row deferred FK trigger would double
    the import time at millions of rows, and the rows are written by an
    INSERT … SELECT that takes pensioner_id from a join, so it cannot dangle.
    """

    source = models.ForeignKey(EvidenceSource, on_delete=models.PROTECT, related_name="+", db_constraint=False,
                               db_index=False)
    source_ref = models.CharField("凭证编号", max_length=128)
    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=64, blank=True)
    event_date = models.DateField("业务日期")
    # NULL = unmatched: kept, and linked by the nightly job once the person is imported.
    # No index: matching scans the night's id window, never one person's rows, and a
    # random-order btree on pensioner_id costed 2.5x the whole import (docs/performance.md).
    pensioner = models.ForeignKey(
        "certification.Pensioner", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="evidence",
        db_constraint=False, db_index=False,
    )
    batch = models.ForeignKey(EvidenceBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              db_constraint=False, db_index=False)
    # Set by the nightly job that linked an unmatched row; that run applies it even
    # though its id is below the run's evidence window.
    linked_by_run = models.BigIntegerField(null=True, blank=True)
    # certification.idnumber.bucket_of(id_number), the partition key (docs/scale.md §2): on
    # PostgreSQL the table is PARTITION BY RANGE (bucket) (migration 0007, bigdata.partitions),
    # and its primary key there is (id, bucket). A plain column set by every writer (the
    # imports compute it in SQL, save() here): PostgreSQL refuses a generated column as a
    # partition key.
    bucket = models.SmallIntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "比对数据"
        constraints = [
            # Re-importing a file adds nothing: (source, source_ref) identifies a record; the
            # bucket is in the key because a partitioned table's unique keys must hold the
            # partition key (same row, same ID number, same bucket). Source first, so a
            # look-up by (source_id, source_ref) uses the prefix.
            models.UniqueConstraint(fields=["source", "source_ref", "bucket"], name="evidence_once_per_source_ref"),
        ]
        indexes = [
            # Used by run_matching's linking step: only the (few) rows still unmatched.
            models.Index(fields=["id_number"], condition=Q(pensioner__isnull=True), name="evidence_unmatched_idx"),
            # Used by run_matching for rows linked late (outside the id window).
            models.Index(fields=["linked_by_run"], condition=Q(linked_by_run__isnull=False),
                         name="evidence_linked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_ref} {self.event_date}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # The imports write the bucket in SQL; rows made through the ORM (tests, the admin) here.
        self.bucket = bucket_of(self.id_number)
        super().save(*args, **kwargs)


class MatchingRun(models.Model):
    """One night's matching. Evidence with id in (evidence_lo, evidence_hi] is its work.

    The id window is the "processed marker": a finished run's evidence_hi is the
    next run's evidence_lo, so no per-row UPDATE of millions of evidence rows is
    needed. Re-applying a window is harmless (every step is idempotent), which is
    what makes a killed run safe to restart.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        SUPERSEDED = "superseded", "已被后续运行取代"

    run_on = models.DateField("比对日期")
    evidence_lo = models.BigIntegerField()
    evidence_hi = models.BigIntegerField()
    # Rows linked late by any run after the last finished one (id > link_floor) are
    # this run's work too: a superseded run may have linked them and then died.
    link_floor = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = verbose_name_plural = "比对运行"

    def __str__(self) -> str:
        return f"#{self.pk} {self.run_on} {self.status}"


class MatchingChunk(models.Model):
    """One partition of a run: bucket range [pk_lo, pk_hi) (bigdata.partitions.ranges()).

    done_at is set in the chunk's own transaction. The column names are older than
    the partitioning (they held pensioner-id ranges); they now hold bucket bounds.
    """

    run = models.ForeignKey(MatchingRun, on_delete=models.CASCADE, related_name="chunks")
    pk_lo = models.BigIntegerField()
    pk_hi = models.BigIntegerField()
    counts = models.JSONField(default=dict, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "pk_lo"]
        constraints = [models.UniqueConstraint(fields=["run", "pk_lo"], name="matching_chunk_once")]

    def __str__(self) -> str:
        return f"run {self.run_id} [{self.pk_lo}, {self.pk_hi})"


class PartnerToken(models.Model):
    """An API key for one data partner, tied to one source. Only its hash is stored."""

    name = models.CharField("合作方", max_length=64)
    source = models.ForeignKey(EvidenceSource, on_delete=models.CASCADE, related_name="tokens", verbose_name="数据来源")
    prefix = models.CharField("前缀", max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "合作方令牌"

    def __str__(self) -> str:
        return f"{self.name}（{self.source.code}，{self.prefix}…）"


class FraudAlert(models.Model):
    """Qualifying evidence dated after a recorded death: someone uses a dead person's card."""

    class State(models.TextChoices):
        OPEN = "open", "待核查"
        CLOSED = "closed", "已处理"

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="fraud_alerts")
    source = models.CharField(max_length=32)
    source_ref = models.CharField(max_length=128)
    event_date = models.DateField()
    death_date = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    # Why it was closed, e.g. the death that caused it was revoked (certification.cases).
    closed_reason = models.CharField("关闭原因", max_length=300, blank=True, db_default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "冒领预警"
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], name="fraudalert_once_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_ref} {self.event_date}"


class DeathRecord(models.Model):
    """One death record on its way through the lifecycle (docs/death-lifecycle.md).

    verify (a weak source, e.g. hukou_cancel) and conflict (the person was seen alive
    in person after the recorded date) are open street-office cases: the person is
    still paid and death_date stays empty until staff confirm. confirmed means the
    death acts (from a trusted source at once, or after staff confirmed it);
    rejected keeps the record and the reason, nothing else changes; revoked means a
    confirmed death was reversed by two people.
    """

    class Kind(models.TextChoices):
        IMMEDIATE = "immediate", "立即生效"
        VERIFY = "verify", "待核实"
        CONFLICT = "conflict", "与当面认证冲突"

    class State(models.TextChoices):
        VERIFY = "verify", "待核实"
        CONFLICT = "conflict", "冲突待核实"
        CONFIRMED = "confirmed", "已确认死亡"
        REJECTED = "rejected", "已驳回"
        REVOKED = "revoked", "已撤销"

    OPEN_STATES = (State.VERIFY, State.CONFLICT)

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="death_records")
    source = models.CharField("来源", max_length=32)
    source_ref = models.CharField("凭证编号", max_length=128)
    death_date = models.DateField("记录的死亡日期")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    state = models.CharField("状态", max_length=16, choices=State.choices)
    # For a conflict: the latest in-person certification after the death date.
    seen_alive_on = models.DateField("当面认证日期", null=True, blank=True)
    opened_on = models.DateField("开立日期")
    due_on = models.DateField("答复期限", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("处理说明", max_length=300, blank=True, db_default="")
    # Written by the matching's set-based INSERT too, so the column has a database default.
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = verbose_name_plural = "死亡记录"
        constraints = [
            # One lifecycle per record: a re-run of the matching opens nothing twice.
            models.UniqueConstraint(fields=["source", "source_ref"], name="deathrecord_once_per_record"),
        ]
        indexes = [
            # The case list: open records by state, oldest first.
            models.Index(fields=["state", "opened_on"], name="deathrecord_open_idx",
                         condition=Q(state__in=["verify", "conflict"])),
            models.Index(fields=["pensioner", "state"], name="deathrecord_pensioner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_ref} {self.death_date} ({self.state})"
