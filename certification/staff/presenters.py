"""HTML for the queue's table rows, built in Python.

At 50 rows a page the Django template engine spent ~20 ms per request on the rows
alone (a lookup and an auto-escape per cell), format_html ~5 ms; plain f-strings with
html.escape on every dynamic value take ~1 ms. Everything dynamic is escaped here,
once, and the joined result is marked safe.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .selectors import QueueRow


def queue_rows_html(rows: list[QueueRow], *, multi_office: bool, today: dt.date | None = None) -> SafeString:
    invalid = f' <span class="tag tag-bad">{escape(_("号码无效"))}</span>'
    # Issue 12: a person whose face tries are used up today is marked on the row (the
    # detail page lists the attempts and their reasons).
    face_out = f' <span class="tag tag-bad" data-testid="face-exhausted">{escape(_("刷脸次数用尽"))}</span>'
    days, suspended = escape(_("天")), f'<span class="badge badge-suspended">{escape(_("已暂停"))}</span>'
    never = f'<span class="help">{escape(_("尚未联系"))}</span>'
    # Phone-width labels (staff.css shows data-label before each cell): no inline <style> (CSP).
    idl, phl, agel, coml, left_l, sentl, lastl = (
        f' data-label="{escape(_(s))}"' for s in ("身份证号", "手机号", "年龄", "社区", "距暂停", "已发提醒", "最近联系"))
    out = []
    for r in rows:
        p = r.pensioner
        group = f' <span class="tag">{escape(p.get_special_group_display())}</span>' if p.special_group else ""
        if today is not None and p.face_attempts_exhausted_on == today:
            group += face_out
        office = f'<br><span class="help">{escape(p.street_office.name)}</span>' if multi_office else ""
        left = (f'<span class="badge badge-warning">{r.days_left} {days}</span>' if r.days_left > 0 else suspended)
        contact = (f"{timezone.localtime(r.last_contact_at):%m-%d %H:%M} {escape(r.last_outcome_label)}"
                   if r.last_contact_at else never)
        community = escape(p.community.name) if p.community_id else "—"
        out.append(
            f'<tr class="row-{escape(p.status)}" data-testid="row">'
            f'<td><a href="{escape(r.url)}"><strong>{escape(p.name)}</strong></a>{group}</td>'
            f'<td class="mono"{idl}>{escape(p.masked_id)}</td>'
            f'<td class="mono"{phl}>{escape(p.masked_phone) or "—"}{invalid if p.phone_invalid else ""}</td>'
            f"<td{agel}>{r.age}</td><td{coml}>{community}{office}</td><td{left_l}>{left}</td>"
            f"<td{sentl}>{r.reminders_sent}</td><td{lastl}>{contact}</td></tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every dynamic value above went through escape()
