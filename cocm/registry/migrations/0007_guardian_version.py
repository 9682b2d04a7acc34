from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_merge_0005_i17_guardians_0005_merge_i12a_i14"),
    ]

    operations = [
        migrations.AddField(
            model_name="guardian",
            name="version",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
