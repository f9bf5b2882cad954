# The opaque public key in staff URLs and API routes (DESIGN §4, issue 13 item 7).
# Three steps so that every existing row gets its own key: a column default evaluated
# once (Django's AddField with a Python default) would give every row the same value.

from django.db import migrations, models

import certification.models


def fill_keys(apps, schema_editor):
    Pensioner = apps.get_model("certification", "Pensioner")
    # One set-based UPDATE; the database draws a fresh random key for each row.
    Pensioner.objects.using(schema_editor.connection.alias).filter(public_key__isnull=True).update(
        public_key=certification.models.RandomPublicKey())


class Migration(migrations.Migration):

    dependencies = [
        ("certification", "0002_qingdao_reference_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="pensioner",
            name="public_key",
            field=models.CharField(editable=False, max_length=32, null=True, verbose_name="公开编号"),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="pensioner",
            name="public_key",
            field=models.CharField(db_default=certification.models.RandomPublicKey(),
                                   default=certification.models.new_public_key, editable=False, max_length=32,
                                   verbose_name="公开编号"),
        ),
        migrations.AddConstraint(
            model_name="pensioner",
            constraint=models.UniqueConstraint(fields=["public_key"], name="pensioner_public_key_unique"),
        ),
    ]
