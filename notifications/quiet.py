"""Quiet hours for SMS: pure functions of an aware datetime (settings SMS_QUIET_*_HOUR).

The defaults make SMS allowed only from 08:00 to 20:00 Asia/Shanghai. A window that
wraps midnight (start 20, end 8) and one that does not (start 1, end 5) both work;
start == end means no quiet hours.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Sent at any hour: a sign-in code is asked for by the person, who is waiting for it.
IMMEDIATE_TEMPLATES = frozenset({"signin_code"})


def is_quiet(at: dt.datetime) -> bool:
    start, end = settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR
    hour = at.astimezone(SHANGHAI).hour
    if start == end:
        return False
    if start > end:  # wraps midnight: 20:00 → 08:00
        return hour >= start or hour < end
    return start <= hour < end


def next_allowed_for(template: str, at: dt.datetime) -> dt.datetime:
    return at if template in IMMEDIATE_TEMPLATES else next_allowed(at)


def next_allowed(at: dt.datetime) -> dt.datetime:
    """`at` itself when SMS may go out then, else the end of this quiet period."""
    if not is_quiet(at):
        return at
    local = at.astimezone(SHANGHAI)
    opens = local.replace(hour=settings.SMS_QUIET_END_HOUR, minute=0, second=0, microsecond=0)
    if opens <= local:
        opens += dt.timedelta(days=1)
    return opens.astimezone(dt.UTC)
