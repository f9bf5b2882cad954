"""A second partial index for the queue filtered by community (and status).

With only the office index, a community filter reads ~10 rows per row shown and
the paginator's COUNT(*) visits every row of a 100k office (~8 ms measured).
(street_office, community, status, valid_until, id) gives both the ordered page
(exactly 50 index entries) and an index-only count.
"""

from django.db import migrations

SQL = (
    "CREATE INDEX IF NOT EXISTS pensioner_staff_filter_idx ON certification_pensioner "
    "(street_office_id, community_id, status, valid_until, id) WHERE status IN ('warning', 'suspended')"
)


class Migration(migrations.Migration):
    dependencies = [("staff", "0002_queue_index")]

    operations = [migrations.RunSQL(SQL, reverse_sql="DROP INDEX IF EXISTS pensioner_staff_filter_idx")]
