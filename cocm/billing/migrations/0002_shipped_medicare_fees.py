"""Ship the 2025 Medicare national non-facility amounts known in the rules reference (1.9)."""

from decimal import Decimal

from django.db import migrations

SOURCE = "RVU25A x CF $32.3465, national non-facility (rules reference 1.9) [S]"
FEES = (("99492", "145.24"), ("99493", "133.59"), ("99494", "55.96"), ("99484", "53.05"))


def load(apps, schema_editor):
    FeeSchedule = apps.get_model("billing", "FeeSchedule")
    for code, amount in FEES:
        FeeSchedule.objects.update_or_create(
            year=2025,
            payer_kind="medicare",
            code=code,
            defaults={"amount": Decimal(amount), "source": SOURCE},
        )


def unload(apps, schema_editor):
    apps.get_model("billing", "FeeSchedule").objects.filter(
        year=2025, payer_kind="medicare", source=SOURCE
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
