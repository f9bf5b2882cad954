from django.db import migrations


def seed(apps, schema_editor):
    from bigdata.sources import SEED

    EvidenceSource = apps.get_model("bigdata", "EvidenceSource")
    for code, name, kind, trust in SEED:
        EvidenceSource.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "trust_level": trust})


def unseed(apps, schema_editor):
    from bigdata.sources import SEED

    apps.get_model("bigdata", "EvidenceSource").objects.filter(
        code__in=[s[0] for s in SEED], batches__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("bigdata", "0003_evidence_feeds")]
    operations = [migrations.RunPython(seed, unseed)]
