"""The pensioner effects of case work, handed to the single writer (issue 9, certification.effects).

Nothing in the cases app writes a pensioner's status, validity, back-pay or
overpayment itself: these three calls are the only way it changes money.
"""

from __future__ import annotations

import datetime as dt

from certification.models import Pensioner, User
from certification.services import certification_record, pensioner_mark_deceased


def certify(*, pensioner: Pensioner, method: str, occurred_on: dt.date, today: dt.date, recorded_by: User,
            note: str) -> None:
    certification_record(pensioner=pensioner, method=method, occurred_on=occurred_on, today=today,
                         recorded_by=recorded_by, source="staff", note=note[:200])


def mark_deceased(*, pensioner: Pensioner, death_date: dt.date, today: dt.date, reason: str, actor: User) -> None:
    pensioner_mark_deceased(pensioner=pensioner, death_date=death_date, today=today, source=reason, actor=actor)


def revive(*, pensioner: Pensioner, death_date: dt.date, today: dt.date, actor: User, reason: str) -> dict:
    raise NotImplementedError("waits for the single writer (issue 9)")
