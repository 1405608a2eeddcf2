"""Every channel gets its own callback secret: one generated per existing row (a field default would give them all
the same one)."""

from django.db import migrations, models

import herald.channels.models


def give_each_channel_a_secret(apps, schema_editor):
    Channel = apps.get_model("channels", "Channel")
    for channel in Channel.objects.filter(callback_secret="").only("id").iterator():
        Channel.objects.filter(id=channel.id).update(callback_secret=herald.channels.models.new_callback_secret())


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0002_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="callback_secret",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_channel_a_secret, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="channel",
            name="callback_secret",
            field=models.CharField(default=herald.channels.models.new_callback_secret, max_length=64),
        ),
    ]
