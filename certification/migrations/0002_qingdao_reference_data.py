from django.db import migrations


def load(apps, schema_editor):
    from certification.reference_data import QINGDAO

    District = apps.get_model("certification", "District")
    StreetOffice = apps.get_model("certification", "StreetOffice")
    for code, name, offices in QINGDAO:
        district, _ = District.objects.get_or_create(code=code, defaults={"name": name})
        for office in offices:
            StreetOffice.objects.get_or_create(
                district=district,
                name=office,
                defaults={
                    "counter_address": f"青岛市{name}{office}便民服务中心 社保服务窗口",
                    "counter_hours": "周一至周五 9:00-12:00，13:30-17:00",
                    "counter_phone": "0532-12333",
                },
            )


def unload(apps, schema_editor):
    apps.get_model("certification", "StreetOffice").objects.filter(pensioners__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("certification", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
