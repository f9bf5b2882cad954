"""The two-person rule for irreversible-looking steps (DESIGN §4, §5).

A death report and a death revocation are recorded by one person and carried out by
a second: another staff member of the pensioner's office, or an administrator. The
one who recorded it can never confirm it. A refusal is a PermissionDenied, so pages
and the API answer 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import User


class SecondPersonRequired(PermissionDenied):
    """The confirmer is the recorder, or not a second person of the office."""


def second_person_allowed(*, recorded_by_id: int | None, confirmer: User, office_id: int) -> bool:
    if not confirmer.is_authenticated or confirmer.pk == recorded_by_id:
        return False
    if confirmer.is_portal_admin:
        return True
    return confirmer.is_staff_member and confirmer.street_offices.filter(pk=office_id).exists()


def second_person_check(*, recorded_by_id: int | None, confirmer: User, office_id: int) -> None:
    if confirmer.pk == recorded_by_id:
        raise SecondPersonRequired("须由另一名工作人员或管理员确认，登记人本人不能确认。")
    if not second_person_allowed(recorded_by_id=recorded_by_id, confirmer=confirmer, office_id=office_id):
        raise SecondPersonRequired("须由本街道的另一名工作人员或管理员确认。")
