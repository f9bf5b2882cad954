"""{% load cases_tags %}: the case pieces other apps' pages show.

- {% pensioner_appeals p %}: 我有异议 entry (suspended/deceased) and the appeal's state, on the pensioner's page;
- {% relative_appeal_entry user %}: the entry and the appeals the relative filed, on the relative's page;
- {% staff_pensioner_cases p %}: a person's cases and the appeal/revocation forms, on the staff record page;
- {% staff_case_counts user %}: open/overdue counts by kind, on the staff home.
"""

from __future__ import annotations

from django import template

from certification import rules as core_rules
from certification.models import Pensioner, User

from .. import selectors
from ..forms import RevocationForm, StaffAppealForm
from ..models import Appeal

register = template.Library()

APPEAL_ENTRY_STATUSES = ("suspended", "deceased")


@register.inclusion_tag("cases/_pensioner_appeals.html")
def pensioner_appeals(pensioner: Pensioner) -> dict[str, object]:
    appeals = list(selectors.appeals_of(pensioner, limit=2))
    has_open = any(a.state == Appeal.State.OPEN for a in appeals)
    return {"appeals": appeals, "show_entry": pensioner.status in APPEAL_ENTRY_STATUSES and not has_open}


@register.inclusion_tag("cases/_relative_entry.html")
def relative_appeal_entry(user: User) -> dict[str, object]:
    appeals = Appeal.objects.filter(filed_by=user, via=Appeal.Via.RELATIVE).select_related("pensioner")
    return {"appeals": list(appeals.order_by("-opened_on", "-id")[:5])}


@register.inclusion_tag("cases/_staff_pensioner_cases.html")
def staff_pensioner_cases(pensioner: Pensioner) -> dict[str, object]:
    return {"p": pensioner, "appeal_form": StaffAppealForm(auto_id="id_appeal_%s"),
            "revocation_form": RevocationForm(auto_id="id_revoke_%s"), **selectors.pensioner_cases(pensioner)}


@register.inclusion_tag("cases/_staff_home_counts.html")
def staff_case_counts(user: User) -> dict[str, object]:
    today = core_rules.today_local()
    return {"case_count_rows": selectors.count_rows(selectors.case_counts(user, today=today))}


@register.inclusion_tag("cases/_by_office_panel.html")
def cases_by_office_panel(user: User) -> dict[str, object]:
    """The dashboard panel: open and overdue cases by street office (the caller's scope)."""
    return {"rows": selectors.cases_by_office(user, today=core_rules.today_local())}
