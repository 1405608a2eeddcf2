"""An index of the messages sent on their own that are waiting for their channel: delivery hands them over first."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("msgs", "0005_failed_reason_too_long")]

    operations = [
        migrations.AddIndex(
            model_name="msg",
            index=models.Index(
                condition=models.Q(("broadcast__isnull", True)),
                fields=["channel", "status", "next_attempt", "id"],
                name="msgs_outbox_single",
            ),
        ),
    ]
