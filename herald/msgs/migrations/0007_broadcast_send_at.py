"""When a scheduled broadcast may begin (`send_at`, null for one that begins at once)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("msgs", "0006_outbox_single")]

    operations = [
        migrations.AddField(model_name="broadcast", name="send_at", field=models.DateTimeField(blank=True, null=True)),
    ]
