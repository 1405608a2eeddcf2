"""A broadcast's own speed limit (`max_per_second`, null for none)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("msgs", "0010_broadcast_schedule")]

    operations = [
        migrations.AddField(
            model_name="broadcast", name="max_per_second", field=models.PositiveIntegerField(blank=True, null=True)
        ),
    ]
