"""The staff queue's index on the pensioner table (owned by the certification app).

The queue is one office's warning + suspended people ordered by valid_until. The
composite (street_office, status, valid_until) index cannot return two statuses in
valid_until order without a sort over the whole office (100k rows); this partial
index can: one ordered range scan, LIMIT 50 stops early. `id` breaks ties so pages
are stable. Plain SQL that both PostgreSQL and SQLite accept.
"""

from django.db import migrations

SQL = (
    "CREATE INDEX IF NOT EXISTS pensioner_staff_queue_idx ON certification_pensioner "
    "(street_office_id, valid_until, id) WHERE status IN ('warning', 'suspended')"
)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("certification", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(SQL, reverse_sql="DROP INDEX IF EXISTS pensioner_staff_queue_idx"),
    ]
