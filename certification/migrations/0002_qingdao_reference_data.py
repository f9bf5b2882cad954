from django.db import migrations


def load(apps, schema_editor):
    from certification.reference_data import load as load_reference

    load_reference(apps.get_model("certification", "District"), apps.get_model("certification", "StreetOffice"))


def unload(apps, schema_editor):
    apps.get_model("certification", "StreetOffice").objects.filter(pensioners__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("certification", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
