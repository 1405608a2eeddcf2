"""Repeating broadcasts: a broadcast's schedule, and the children its occurrences make (parent, occurrence)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("msgs", "0009_send_window"),
    ]

    operations = [
        migrations.CreateModel(
            name="BroadcastSchedule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("repeat", models.CharField(blank=True, max_length=8, null=True)),
                ("rule", models.CharField(max_length=500)),
                ("start", models.DateTimeField()),
                ("until", models.DateTimeField(blank=True, null=True)),
                ("next_fire", models.DateTimeField(blank=True, null=True)),
                ("is_active", models.BooleanField(default=True)),
                ("missed", models.PositiveIntegerField(default=0)),
                ("created_on", models.DateTimeField(default=django.utils.timezone.now)),
                ("modified_on", models.DateTimeField(default=django.utils.timezone.now)),
                ("timezone", models.CharField(max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="broadcast",
            name="occurrence",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="broadcast",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="children",
                to="msgs.broadcast",
            ),
        ),
        migrations.AddConstraint(
            model_name="broadcast",
            constraint=models.UniqueConstraint(
                condition=models.Q(("parent__isnull", False)),
                fields=("parent", "occurrence"),
                name="bcast_once_per_occurrence",
            ),
        ),
        migrations.AddField(
            model_name="broadcastschedule",
            name="broadcast",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name="schedule", to="msgs.broadcast"
            ),
        ),
        migrations.AddIndex(
            model_name="broadcastschedule",
            index=models.Index(condition=models.Q(("is_active", True)), fields=["next_fire"], name="schedules_due"),
        ),
    ]
