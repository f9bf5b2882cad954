"""The daily dashboard snapshot: every dashboard page and API call reads these rows.

One row per (day, scope level, scope id, metric, key). Every metric is additive
(counts and sums of money), so the nightly builder computes office rows with a few
GROUP BY queries and rolls them up to districts and the city; rates are shown as
numerator / denominator and divided only when displayed.
"""

from __future__ import annotations

from django.db import models


class Level(models.TextChoices):
    CITY = "city", "全市"
    DISTRICT = "district", "区（市）"
    OFFICE = "office", "街道"


class Snapshot(models.Model):
    """One finished build per day; pages read the newest one."""

    day = models.DateField("统计日期", unique=True)
    built_at = models.DateTimeField("生成时间")
    seconds = models.FloatField("耗时（秒）", default=0)
    rows = models.PositiveIntegerField("行数", default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = verbose_name_plural = "驾驶舱快照"

    def __str__(self) -> str:
        return self.day.isoformat()


class Figure(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="figures")
    level = models.CharField("层级", max_length=8, choices=Level.choices)
    scope_id = models.IntegerField("范围编号")  # 0 for the city, else District.pk / StreetOffice.pk
    metric = models.CharField("指标", max_length=16)
    key = models.CharField("键", max_length=64)
    value = models.DecimalField("数值", max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "驾驶舱数据"
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "level", "scope_id", "metric", "key"], name="figure_once_per_key"
            )
        ]
        # A page reads one scope of one snapshot (city page: city scope + its districts).
        indexes = [models.Index(fields=["snapshot", "level", "scope_id"], name="figure_scope_idx")]

    def __str__(self) -> str:
        return f"{self.level}:{self.scope_id} {self.metric}/{self.key}={self.value}"
