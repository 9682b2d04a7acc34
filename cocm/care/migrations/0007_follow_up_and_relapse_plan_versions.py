from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0006_merge_caseload_columns_and_versions"),
    ]

    operations = [
        migrations.AddField(
            model_name="followup",
            name="version",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="relapsepreventionplan",
            name="version",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
