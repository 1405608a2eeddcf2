"""A broadcast's send window (`send_window`, null for any time) and the opening the tick last held it until."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("msgs", "0008_broadcast_control")]

    operations = [
        migrations.AddField(model_name="broadcast", name="send_window", field=models.JSONField(blank=True, null=True)),
        migrations.AddField(
            model_name="broadcast", name="window_held_until", field=models.DateTimeField(blank=True, null=True)
        ),
    ]
