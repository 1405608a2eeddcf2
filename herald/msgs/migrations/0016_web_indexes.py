from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("msgs", "0015_broadcast_template"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="msg",
            index=models.Index(fields=["broadcast", "status", "-created_on", "-id"], name="msgs_broadcast_status"),
        ),
    ]
