"""Turn snapshot figures into the tables every page, API call and .xlsx shows.

No figure is computed here beyond a division for display: the numbers come from
the snapshot rows (services.snapshot_build).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from certification.models import Method
from certification.rules import Status

from . import charts
from .models import Level, Snapshot
from .selectors import Figures, Scope, children_of, figures_for, offices_under
from .services import AGE_BANDS, face_reason_labels, face_source_ready, trend_months

# Labels stay Chinese here (gettext_noop marks them for makemessages); tables translate them.
SOURCES = {
    "hospital": gettext_noop("医院住院出院"),
    "medical_insurance": gettext_noop("医保结算"),
    "outpatient": gettext_noop("门诊就诊"),
    "transit": gettext_noop("老年公交卡乘车"),
    "dibao": gettext_noop("低保发放"),
    "health_check": gettext_noop("健康体检"),
    "vaccination": gettext_noop("疫苗接种"),
    "counter_visit": gettext_noop("社保窗口到访"),
}
STATUS_LABELS = {
    Status.ACTIVE: gettext_noop("正常（已认证）"),
    Status.WARNING: gettext_noop("提醒期"),
    Status.SUSPENDED: gettext_noop("已暂停发放"),
    Status.DECEASED: gettext_noop("已死亡"),
}
MONEY = [
    ("suspended_now", gettext_noop("目前暂停发放人数"), gettext_noop("人")),
    ("suspended_monthly", gettext_noop("暂停发放的月养老金合计"), gettext_noop("元")),
    ("suspensions_12m", gettext_noop("近12个月暂停发放人次"), gettext_noop("人次")),
    ("backpay_count_12m", gettext_noop("近12个月恢复后补发笔数"), gettext_noop("笔")),
    ("backpay_total_12m", gettext_noop("近12个月补发金额"), gettext_noop("元")),
    ("backpay_paid_12m", gettext_noop("其中已支付的补发金额"), gettext_noop("元")),
    ("deaths_12m", gettext_noop("近12个月死亡人数"), gettext_noop("人")),
    ("overpay_open", gettext_noop("待追回多发笔数"), gettext_noop("笔")),
    ("overpay_open_total", gettext_noop("待追回多发金额"), gettext_noop("元")),
]


@dataclass
class Table:
    slug: str
    title: str
    columns: list[str]
    rows: list[list[object]]
    note: str = ""
    chart: SafeString | None = None
    links: list[str | None] = field(default_factory=list)  # drill-down link per row, for pages
    wide: bool = False  # spans the page width (month-by-month and per-office tables)
    page_rows: int | None = None  # the page shows the first N rows; the .xlsx has them all
    extra_chart: SafeString | None = None

    @property
    def linked_rows(self) -> list[tuple[str | None, list[object]]]:
        links = self.links or [None] * len(self.rows)
        return list(zip(links, self.rows, strict=True))[: self.page_rows]

    @property
    def truncated(self) -> bool:
        return self.page_rows is not None and len(self.rows) > self.page_rows


def _n(figs: Figures, metric: str, key: str) -> Decimal:
    return figs.get((metric, key), Decimal(0))


def _int(v: Decimal) -> int | Decimal:
    return int(v) if v == int(v) else v


def rate(num: Decimal, den: Decimal) -> str:
    return f"{(num * 100 / den):.1f}%" if den else "—"


def scope_url(level: str, scope_id: int) -> str:
    if level == Level.CITY:
        return reverse("dashboards:city")
    return reverse(f"dashboards:{level}", args=[scope_id])


def build_tables(snapshot: Snapshot | None, scope: Scope, *, with_charts: bool = True) -> list[Table]:
    figs = figures_for(snapshot, scope.level, [scope.id]).get(scope.id, {})
    today = snapshot.day if snapshot else dt.date.today()  # noqa: DTZ011 - only labels months when empty
    tables = [
        _silent(figs),
        _status(figs, with_charts),
        _channels(figs, today, with_charts),
        _trend(figs, today, with_charts),
        _sources(figs, with_charts),
        _faces(figs),
        _queue(snapshot, scope),
        _money(figs),
    ]
    if scope.children_level:
        tables.append(_children(snapshot, scope))
    return tables


def _silent(figs: Figures) -> Table:
    num, den = _n(figs, "silent", "numerator"), _n(figs, "silent", "denominator")
    return Table(
        "silent", _("近一年大数据静默认证通过率"), [_("项目"), _("数值")],
        [[_("分子：窗口内有大数据比对记录的人数"), _int(num)],
         [_("分母：窗口开始前已纳入且统计日未死亡的人数"), _int(den)],
         [_("通过率"), rate(num, den)]],
        note=_("窗口为统计日前12个月（不含起点、含统计日）。"),
    )


def _status(figs: Figures, with_charts: bool) -> Table:
    rows = [[_(STATUS_LABELS[s]), _int(_n(figs, "status", s))] for s in Status]
    chart = charts.hbar([r[0] for r in rows], [float(r[1]) for r in rows], unit=_("人"), title=_("各状态人数")) if with_charts else None
    return Table("status", _("各状态人数"), [_("状态"), _("人数")], rows, chart=chart)


def _channels(figs: Figures, today: dt.date, with_charts: bool) -> Table:
    methods = list(Method)
    rows: list[list[object]] = []
    for m in trend_months(today):
        mk = m.strftime("%Y-%m")
        counts = [_int(_n(figs, "channel", f"{mk}|{meth.value}")) for meth in methods]
        rows.append([mk, *counts, sum(counts)])
    totals = [_int(_n(figs, "channel_total", meth.value)) for meth in methods]
    rows.append([_("近12个月合计"), *totals, sum(totals)])
    chart = charts.hbar([str(m.label) for m in methods], [float(t) for t in totals], unit=_("次"),
                        title=_("近12个月各渠道认证次数")) if with_charts else None
    return Table("channels", _("各渠道认证次数（近12个月）"), [_("月份"), *[str(m.label) for m in methods], _("合计")],
                 rows, chart=chart, note=_("合计行按统计日前12个月计算；各月按自然月计算。"), wide=True)


def _trend(figs: Figures, today: dt.date, with_charts: bool) -> Table:
    rows: list[list[object]] = []
    rates: list[float] = []
    for m in trend_months(today):
        mk = m.strftime("%Y-%m")
        num, den = _n(figs, "trend", f"{mk}|silent_num"), _n(figs, "trend", f"{mk}|silent_den")
        rates.append(float(num * 100 / den) if den else 0.0)
        rows.append([mk, _int(num), _int(den), rate(num, den), _int(_n(figs, "trend", f"{mk}|warnings")),
                     _int(_n(figs, "trend", f"{mk}|suspensions")), _int(_n(figs, "trend", f"{mk}|restorations"))])
    chart = extra = None
    if with_charts:
        months = [_("%(m)s月") % {"m": r[0][5:]} for r in rows]
        chart = charts.lines(months, [(_("静默认证通过率"), rates)], unit="%", title=_("月度趋势"), max_value=100)
        extra = charts.lines(months, [(_("进入提醒期"), [float(r[4]) for r in rows]),
                                      (_("暂停发放"), [float(r[5]) for r in rows]),
                                      (_("恢复发放"), [float(r[6]) for r in rows])], unit=_("人"), title=_("月度人数变化"))
    return Table("trend", _("月度趋势"),
                 [_("月份"), _("静默通过人数"), _("应认证人数"), _("静默通过率"), _("进入提醒期"), _("暂停发放"), _("恢复发放")],
                 rows, chart=chart, extra_chart=extra, note=_("通过率按每月最后一天（本月按统计日）计算。"), wide=True)


def _sources(figs: Figures, with_charts: bool) -> Table:
    rows = [[_(label), _int(_n(figs, "source", f"{code}|confirmed")), _int(_n(figs, "source", f"{code}|alone"))]
            for code, label in SOURCES.items()]
    chart = charts.hbar([r[0] for r in rows], [float(r[1]) for r in rows], unit=_("人"),
                        title=_("各数据来源确认人数")) if with_charts else None
    return Table("sources", _("各数据来源确认人数（近12个月）"), [_("数据来源"), _("确认人数"), _("仅由该来源确认")], rows,
                 chart=chart)


def _faces(figs: Figures) -> Table:
    if not face_source_ready():
        return Table("faces", _("刷脸认证通过率（按年龄段）"), [_("年龄段"), _("认证次数"), _("通过次数"), _("通过率")], [],
                     note=_("刷脸认证模块尚未上线，暂无数据。"))
    reasons = sorted({k.split("|", 1)[1][7:] for (m, k) in figs if m == "face" and "|reason:" in k})
    labels = face_reason_labels()
    rows: list[list[object]] = []
    for band in AGE_BANDS:
        att, ok = _n(figs, "face", f"{band}|attempts"), _n(figs, "face", f"{band}|passed")
        rows.append([band, _int(att), _int(ok), rate(ok, att),
                     *[_int(_n(figs, "face", f"{band}|reason:{r}")) for r in reasons]])
    return Table("faces", _("刷脸认证通过率（按年龄段）"),
                 [_("年龄段"), _("认证次数"), _("通过次数"), _("通过率"), *[_("未通过：%s") % labels.get(r, r) for r in reasons]], rows,
                 note=_("近12个月的刷脸认证（本人及亲属代办）。"))


def _queue(snapshot: Snapshot | None, scope: Scope) -> Table:
    offices = offices_under(scope)
    figs = figures_for(snapshot, Level.OFFICE, [o.id for o in offices], ["queue"])
    rows, links = [], []
    for o in sorted(offices, key=lambda o: -_n(figs.get(o.id, {}), "queue", "total")):
        f = figs.get(o.id, {})
        rows.append([o.name, _int(_n(f, "queue", "warning")), _int(_n(f, "queue", "suspended")),
                     _int(_n(f, "queue", "total")), _int(_n(f, "queue", "face_exhausted"))])
        links.append(scope_url(Level.OFFICE, o.id))
    return Table("queue", _("各街道提醒名单"), [_("街道"), _("提醒期"), _("已暂停"), _("合计"), _("刷脸次数用尽")], rows,
                 links=links, wide=True, page_rows=15, note=_("按队列人数从多到少排列。"))


def _money(figs: Figures) -> Table:
    return Table("money", _("资金情况"), [_("项目"), _("数值"), _("单位")],
                 [[_(label), _int(_n(figs, "money", key)), _(unit)] for key, label, unit in MONEY])


def _children(snapshot: Snapshot | None, scope: Scope) -> Table:
    kids = children_of(scope)
    figs = figures_for(snapshot, scope.children_level or "", [k.id for k in kids], ["silent", "status", "queue"])
    rows, links = [], []
    for k in kids:
        f = figs.get(k.id, {})
        num, den = _n(f, "silent", "numerator"), _n(f, "silent", "denominator")
        rows.append([k.name, _int(num), _int(den), rate(num, den),
                     *[_int(_n(f, "status", s)) for s in Status], _int(_n(f, "queue", "total"))])
        links.append(scope_url(k.level, k.id))
    title = _("各区（市）情况") if scope.level == Level.CITY else _("各街道情况")
    return Table("children", title,
                 [_("名称"), _("静默通过人数"), _("应认证人数"), _("静默通过率"),
                  *[_(STATUS_LABELS[s]) for s in Status], _("提醒名单")], rows, links=links, wide=True)
