"""A workspace's default send window (`send_window`, null for any time)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workspaces", "0005_globals")]

    operations = [
        migrations.AddField(model_name="workspace", name="send_window", field=models.JSONField(blank=True, null=True)),
    ]
