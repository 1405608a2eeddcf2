from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("msgs", "0014_msg_out_by_external_id"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="msg",
            index=models.Index(fields=["broadcast", "status", "-created_on", "-id"], name="msgs_broadcast_status"),
        ),
    ]
