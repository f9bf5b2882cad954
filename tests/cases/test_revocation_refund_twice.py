"""A person wrongly recorded dead twice is paid back twice, each case once (issue 10 follow-up).

Each wrong death opens its own overpayment case; finance recovers it; its revocation
cancels it with the recovered amount as its refund. The ledger's refund rows are keyed on
the case (LedgerEntry.overpayment, unique), not on the person, so the second refund is
paid like the first: in the first roster that closes after its cancellation, whether
that is the same roster as the first refund or a later one, and never again.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import types
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from certification import rules
from certification.cases import services
from certification.ledger import roster_close
from certification.models import LedgerEntry, Overpayment, Pensioner
from certification.services import pensioner_mark_deceased
from tests.factories import PensionerFactory, office

AMOUNT = Decimal("2345.67")  # not the factory's 3000.00, so no sum matches by accident
SEP, OCT, NOV, DEC = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)
JAN, FEB, MAR, APR, MAY = (dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1), dt.date(2027, 4, 1),
                           dt.date(2027, 5, 1))


def _on(clock, day: dt.date) -> dt.date:
    clock.move_to(dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.UTC))  # 10:00 in Shanghai
    return day


def _export(clock, tmp_path, month: dt.date, name: str = "") -> tuple[dict, bytes, list[dict[str, str]]]:  # type: ignore[type-arg]
    """export_payment_roster for `month`, run on its 1st unless the clock is already later."""
    if rules.today_local() < month:
        _on(clock, month)
    path = tmp_path / (name or f"{month:%Y-%m}.csv")
    out = io.StringIO()
    call_command("export_payment_roster", "--month", f"{month:%Y-%m}", "--output", str(path), stdout=out)
    data = path.read_bytes()
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    return json.loads(out.getvalue().strip().splitlines()[-1]), data, rows


def _mine(rows, p) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return sorted((r["类别代码"], r["所属月份"], r["金额（元）"]) for r in rows if r["身份证号"] == p.id_number)


def _die_wrongly(clock, p, *, died: dt.date, recorded: dt.date) -> Overpayment:
    pensioner_mark_deceased(pensioner=p, death_date=died, today=_on(clock, recorded), source="death_civil")
    return Overpayment.objects.get(pensioner=p, state=Overpayment.State.OPEN)


def _recover(case: Overpayment) -> None:
    Overpayment.objects.filter(pk=case.pk).update(state=Overpayment.State.RECOVERED)  # finance took it back


def _revoke(clock, w, p, *, on: dt.date) -> None:
    rev = services.revocation_record(pensioner=p, staff=w["staff"], reason="身份证号录入错误", today=_on(clock, on))
    services.revocation_confirm(revocation=rev, user=w["staff2"], today=on)


def _net(p, cases: list[Overpayment]) -> Decimal:  # type: ignore[no-untyped-def]
    """paid − recovered + refunded, from the ledger and the cases."""
    paid = LedgerEntry.objects.filter(pensioner=p, kind__in=LedgerEntry.PAID_KINDS).aggregate(t=Sum("amount"))["t"]
    refunded = LedgerEntry.objects.filter(pensioner=p, kind="refund").aggregate(t=Sum("amount"))["t"] or 0
    return paid - sum(c.total for c in cases) + refunded


def test_two_wrong_deaths_refunded_in_two_rosters_each_once(w, clock, tmp_path):
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 12, 1), monthly_amount=AMOUNT)
    _export(clock, tmp_path, SEP)
    # First wrong death: 15 August, recorded 10 September; September recovered; revoked 3 December.
    case1 = _die_wrongly(clock, p, died=dt.date(2026, 8, 15), recorded=dt.date(2026, 9, 10))
    assert (case1.months, case1.total) == (["2026-09-01"], AMOUNT)
    _export(clock, tmp_path, OCT)
    _recover(case1)
    _export(clock, tmp_path, NOV)
    _revoke(clock, w, p, on=dt.date(2026, 12, 3))
    case1.refresh_from_db()
    assert (case1.state, case1.refund, case1.refunded_in) == ("cancelled", AMOUNT, None)

    dec, _b, dec_rows = _export(clock, tmp_path, DEC)
    assert _mine(dec_rows, p) == sorted([("pay", "2026-12", f"{AMOUNT}"), ("back_pay", "2026-10", f"{AMOUNT}"),
                                         ("back_pay", "2026-11", f"{AMOUNT}"), ("refund", "2026-12", f"{AMOUNT}")])
    _jan, _b, jan_rows = _export(clock, tmp_path, JAN)
    assert _mine(jan_rows, p) == [("pay", "2027-01", f"{AMOUNT}")]

    # Second wrong death: 20 December, recorded 10 January (January paid): a case of its own.
    case2 = _die_wrongly(clock, p, died=dt.date(2026, 12, 20), recorded=dt.date(2027, 1, 10))
    assert case2.pk != case1.pk and (case2.months, case2.total) == (["2027-01-01"], AMOUNT)
    case1.refresh_from_db()
    assert (case1.state, case1.refunded_in) == ("cancelled", DEC)
    _feb, _b, feb_rows = _export(clock, tmp_path, FEB)
    assert _mine(feb_rows, p) == [("overpayment", "2027-02", f"{AMOUNT}")]  # nothing refunded to the dead again
    _recover(case2)
    _mar, _b, mar_rows = _export(clock, tmp_path, MAR)
    assert _mine(mar_rows, p) == []
    _revoke(clock, w, p, on=dt.date(2027, 3, 3))
    case2.refresh_from_db()
    assert (case2.state, case2.refund, case2.refunded_in) == ("cancelled", AMOUNT, None)

    # April pays it: the month, the back-pay since the second death, and the second refund.
    apr, apr_bytes, apr_rows = _export(clock, tmp_path, APR)
    assert apr["closed_now"] is True
    assert _mine(apr_rows, p) == sorted([("pay", "2027-04", f"{AMOUNT}"), ("back_pay", "2027-02", f"{AMOUNT}"),
                                         ("back_pay", "2027-03", f"{AMOUNT}"), ("refund", "2027-04", f"{AMOUNT}")])
    assert (apr["back_pay_lines"], apr["back_pay_amount"]) == (3, f"{3 * AMOUNT:.2f}")
    case2.refresh_from_db()
    assert case2.refunded_in == APR
    # A replay of April is the same file and the same JSON, and pays nothing new.
    again, again_bytes, _rows = _export(clock, tmp_path, APR, "apr-again.csv")
    assert again["closed_now"] is False and again_bytes == apr_bytes
    assert {k: v for k, v in again.items() if k not in ("closed_now", "path")} == {
        k: v for k, v in apr.items() if k not in ("closed_now", "path")}
    may, _b, may_rows = _export(clock, tmp_path, MAY)
    assert _mine(may_rows, p) == [("pay", "2027-05", f"{AMOUNT}")] and may["back_pay_lines"] == 0

    refunds = LedgerEntry.objects.filter(pensioner=p, kind="refund").order_by("roster_month")
    assert list(refunds.values_list("roster_month", "overpayment_id", "amount")) == [
        (DEC, case1.pk, AMOUNT), (APR, case2.pk, AMOUNT)]
    # September to May, nine months, each paid once; both recoveries paid back.
    paid = LedgerEntry.objects.filter(pensioner=p, kind__in=LedgerEntry.PAID_KINDS)
    assert sorted(paid.values_list("month", flat=True)) == [SEP, OCT, NOV, DEC, JAN, FEB, MAR, APR, MAY]
    assert _net(p, [case1, case2]) == 9 * AMOUNT


def test_two_wrong_deaths_refunded_in_the_same_roster_each_once(w, clock, tmp_path):
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 12, 1), monthly_amount=AMOUNT,
                         enrolled_on=dt.date(2020, 1, 1))
    _export(clock, tmp_path, SEP)
    case1 = _die_wrongly(clock, p, died=dt.date(2026, 8, 15), recorded=dt.date(2026, 9, 10))
    _recover(case1)
    _revoke(clock, w, p, on=dt.date(2026, 9, 18))
    # Another source, another wrong date (20 July): August (before the ledger) and September overpaid.
    case2 = _die_wrongly(clock, p, died=dt.date(2026, 7, 20), recorded=dt.date(2026, 9, 22))
    assert (case2.months, case2.total) == (["2026-08-01", "2026-09-01"], 2 * AMOUNT)
    _recover(case2)
    _revoke(clock, w, p, on=dt.date(2026, 9, 28))
    case1.refresh_from_db()
    case2.refresh_from_db()
    assert [(c.state, c.refund, c.refunded_in) for c in (case1, case2)] == [
        ("cancelled", AMOUNT, None), ("cancelled", 2 * AMOUNT, None)]

    # October's roster pays both, each its own amount, each naming its case.
    octo, oct_bytes, oct_rows = _export(clock, tmp_path, OCT)
    assert _mine(oct_rows, p) == sorted([("pay", "2026-10", f"{AMOUNT}"), ("refund", "2026-10", f"{AMOUNT}"),
                                         ("refund", "2026-10", f"{2 * AMOUNT}")])
    assert (octo["back_pay_lines"], octo["back_pay_amount"]) == (2, f"{3 * AMOUNT:.2f}")
    notes = [r["说明"] for r in oct_rows if r["类别代码"] == "refund"]
    assert [f"多发案件 {case1.pk}" in notes[0], f"多发案件 {case2.pk}" in notes[1]] == [True, True], notes
    assert sorted(LedgerEntry.objects.filter(kind="refund").values_list("overpayment_id", "amount")) == [
        (case1.pk, AMOUNT), (case2.pk, 2 * AMOUNT)]
    assert set(Overpayment.objects.filter(pensioner=p).values_list("refunded_in", flat=True)) == {OCT}
    # The replay writes the same bytes (the two refund rows in the same order).
    again, again_bytes, _rows = _export(clock, tmp_path, OCT, "oct-again.csv")
    assert again["closed_now"] is False and again_bytes == oct_bytes
    _nov, _b, nov_rows = _export(clock, tmp_path, NOV)
    assert _mine(nov_rows, p) == [("pay", "2026-11", f"{AMOUNT}")]
    assert LedgerEntry.objects.filter(pensioner=p, kind="refund").count() == 2

    # In the ledger: September to November paid once each; both recoveries paid back.
    paid = LedgerEntry.objects.filter(pensioner=p, kind__in=LedgerEntry.PAID_KINDS)
    assert sorted(paid.values_list("month", flat=True)) == [SEP, OCT, NOV]
    assert _net(p, [case1, case2]) == 3 * AMOUNT


def test_the_database_allows_one_open_case_per_person(w, clock):
    """A second case can open only once the first is no longer open (the writer's INSERT relies on it)."""
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 12, 1), monthly_amount=AMOUNT)
    roster_close(month=SEP, today=_on(clock, SEP))
    case = _die_wrongly(clock, p, died=dt.date(2026, 8, 15), recorded=dt.date(2026, 9, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Overpayment.objects.create(pensioner=p, death_date=dt.date(2026, 8, 1), months=["2026-09-01"], total=AMOUNT,
                                   opened_on=dt.date(2026, 9, 11))
    assert list(Overpayment.objects.filter(pensioner=p).values_list("pk", flat=True)) == [case.pk]
    Overpayment.objects.filter(pk=case.pk).update(state=Overpayment.State.CANCELLED)
    Overpayment.objects.create(pensioner=p, death_date=dt.date(2026, 8, 1), months=["2026-09-01"], total=AMOUNT,
                               opened_on=dt.date(2026, 9, 11))
    assert Overpayment.objects.filter(pensioner=p).count() == 2


# --- the migration's back-fill (0007_ledger_refund_per_case) ----------------------------------------------

_MIGRATION = importlib.import_module("certification.migrations.0007_ledger_refund_per_case")


def _backfill() -> None:
    from django.apps import apps

    _MIGRATION.link_refund_rows_to_their_case(apps, types.SimpleNamespace(connection=connection))


def _as_0006_left_it(w, *, refunded_in: dt.date | None) -> tuple[Pensioner, Overpayment, LedgerEntry]:
    """A cancelled case with a refund, and the refund row December's roster wrote for it without a link
    (0006 had no column for it)."""
    p = PensionerFactory(street_office=w["a"], status="active", valid_until=dt.date(2027, 12, 1), monthly_amount=AMOUNT)
    roster_close(month=DEC, today=dt.date(2026, 12, 3))
    case = Overpayment.objects.create(pensioner=p, death_date=dt.date(2026, 8, 15), months=["2026-09-01"],
                                      total=AMOUNT, state=Overpayment.State.CANCELLED, opened_on=dt.date(2026, 9, 10),
                                      refund=AMOUNT, refunded_in=refunded_in)
    row = LedgerEntry.objects.create(roster_month=DEC, pensioner=p, kind="refund", month=DEC, amount=AMOUNT,
                                     note="退还已追回的多发款（死亡登记已撤销，死亡日期 2026-08-15）")
    return p, case, row


def test_the_backfill_links_an_existing_refund_row_to_its_case(w):
    p, case, row = _as_0006_left_it(w, refunded_in=DEC)
    _backfill()
    row.refresh_from_db()
    assert row.overpayment_id == case.pk
    roster_close(month=JAN, today=JAN)
    assert list(LedgerEntry.objects.filter(pensioner=p, kind="refund").values_list("roster_month", flat=True)) == [DEC]
    # Linked, the case can have no second refund row, in another month or the same.
    for month in (FEB, DEC):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(roster_month=month, pensioner=p, kind="refund", month=month, amount=AMOUNT,
                                       overpayment=case)


def test_the_backfill_keeps_a_case_whose_month_was_lost_from_being_paid_again(w):
    """A refund row whose case has no refunded_in: unlinked, the next roster would pay the case again.
    The back-fill links the row and gives the case the row's month; January pays nothing back."""
    p, case, row = _as_0006_left_it(w, refunded_in=None)
    _backfill()
    row.refresh_from_db()
    case.refresh_from_db()
    assert (row.overpayment_id, case.refunded_in) == (case.pk, DEC)
    roster_close(month=JAN, today=JAN)
    assert LedgerEntry.objects.filter(pensioner=p, kind="refund").count() == 1


def test_only_a_refund_row_names_a_case_and_other_rows_stay_once_per_month(w):
    p, case, _row = _as_0006_left_it(w, refunded_in=DEC)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(roster_month=JAN, pensioner=p, kind="back_pay", month=NOV, amount=AMOUNT,
                                   overpayment=case)
    # ledger_row_once still holds for rows without a case (here a second `suspended` row for December).
    LedgerEntry.objects.create(roster_month=DEC, pensioner=p, kind="suspended", month=DEC, amount=AMOUNT)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(roster_month=DEC, pensioner=p, kind="suspended", month=DEC, amount=AMOUNT)


@pytest.mark.django_db(transaction=True)
def test_the_migration_itself_links_the_rows_of_a_database_at_0006():
    """Down to 0006, a refund row as 0006 wrote it, up again: linked, and the case is paid back no more."""
    p = PensionerFactory(street_office=office(), status="active", valid_until=dt.date(2027, 12, 1),
                         monthly_amount=AMOUNT)
    case = Overpayment.objects.create(pensioner=p, death_date=dt.date(2026, 8, 15), months=["2026-09-01"],
                                      total=AMOUNT, state=Overpayment.State.CANCELLED, opened_on=dt.date(2026, 9, 10),
                                      refund=AMOUNT, refunded_in=DEC)
    before = [("certification", "0006_overpayment_refund")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        old.get_model("certification", "RosterMonth").objects.create(month=DEC, closed_on=dt.date(2026, 12, 3))
        old.get_model("certification", "LedgerEntry").objects.create(
            roster_month=DEC, pensioner_id=p.pk, kind="refund", month=DEC, amount=AMOUNT, note="退还已追回的多发款")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    row = LedgerEntry.objects.get(pensioner=p, kind="refund")
    assert (row.overpayment_id, row.amount) == (case.pk, AMOUNT)
    roster_close(month=JAN, today=JAN)
    assert LedgerEntry.objects.filter(pensioner=p, kind="refund").count() == 1
