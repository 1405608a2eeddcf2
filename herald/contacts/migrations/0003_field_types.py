from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0002_contact_notes"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactfield",
            name="value_type",
            field=models.CharField(
                choices=[
                    ("text", "text"),
                    ("number", "number"),
                    ("datetime", "datetime"),
                    ("state", "state"),
                    ("district", "district"),
                    ("ward", "ward"),
                ],
                default="text",
                max_length=8,
            ),
        ),
    ]
