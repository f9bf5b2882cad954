"""Refund rows keyed on their overpayment case, not on the person (issue 10 follow-up).

A person wrongly recorded dead twice, with money recovered both times and both deaths
revoked, has two cancelled cases to pay back. 0006 allowed one refund row per person
(and one overpayment case per person), so the second refund was never paid.

* `LedgerEntry.overpayment`: the case a `refund` row pays back (only refund rows have
  one), unique: each case is paid back once.
* `ledger_row_once` now includes the case (0 for every row without one, so those keep
  the old rule): two refunds of one person can close in the same roster.
* `Overpayment`: one *open* case per person instead of one case ever, so a second death
  after a revoked one opens its own case.
* Data: every existing refund row is linked to its case (under 0006 a person had exactly
  one), and a linked case with no `refunded_in` gets the row's roster month, so an
  existing database keeps paying each case once.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models


def link_refund_rows_to_their_case(apps, schema_editor):
    """Set-based, the same SQL on PostgreSQL and SQLite (two statements, whatever the ledger's size)."""
    ledger = apps.get_model("certification", "LedgerEntry")._meta.db_table
    cases = apps.get_model("certification", "Overpayment")._meta.db_table
    with schema_editor.connection.cursor() as cur:
        # Before this migration a person had one case; the one refunded in the row's month first all the same.
        same = f"o.pensioner_id = {ledger}.pensioner_id AND o.refund > 0"
        cur.execute(
            f"UPDATE {ledger} SET overpayment_id = COALESCE("  # noqa: S608 - table names from _meta
            f"(SELECT MIN(o.id) FROM {cases} o WHERE {same} AND o.refunded_in = {ledger}.roster_month), "
            f"(SELECT MIN(o.id) FROM {cases} o WHERE {same})) "
            f"WHERE kind = 'refund' AND overpayment_id IS NULL"
        )
        cur.execute(
            f"UPDATE {cases} SET refunded_in = (SELECT MIN(x.roster_month) FROM {ledger} x "  # noqa: S608 - table names from _meta
            f"WHERE x.overpayment_id = {cases}.id) WHERE refunded_in IS NULL "
            f"AND EXISTS (SELECT 1 FROM {ledger} x WHERE x.overpayment_id = {cases}.id)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('certification', '0006_overpayment_refund'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerentry',
            name='overpayment',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='refund_entries', to='certification.overpayment', verbose_name='退还的多发案件'),
        ),
        migrations.RemoveConstraint(
            model_name='ledgerentry',
            name='ledger_row_once',
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.UniqueConstraint(models.F('roster_month'), models.F('kind'), models.F('pensioner'), models.F('month'), django.db.models.functions.comparison.Coalesce('overpayment', models.Value(0)), name='ledger_row_once'),
        ),
        migrations.RemoveConstraint(
            model_name='ledgerentry',
            name='ledger_refund_once',
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.UniqueConstraint(condition=models.Q(('overpayment__isnull', False)), fields=('overpayment',), name='ledger_refund_once_per_case'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('overpayment__isnull', True), ('kind', 'refund'), _connector='OR'), name='ledger_case_only_on_refund'),
        ),
        migrations.RemoveConstraint(
            model_name='overpayment',
            name='overpayment_once_per_pensioner',
        ),
        migrations.AddConstraint(
            model_name='overpayment',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'open')), fields=('pensioner',), name='overpayment_open_once_per_pensioner'),
        ),
        # Last: on PostgreSQL the new foreign key's checks are deferred to commit, and no
        # ALTER TABLE may follow rows written under them in the same transaction.
        migrations.RunPython(link_refund_rows_to_their_case, migrations.RunPython.noop),
    ]
