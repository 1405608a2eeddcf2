# A contact import's heartbeat (progressed_on: a running import whose worker died is marked failed).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0006_group_counts'),
    ]

    operations = [
        migrations.AddField(
            model_name='contactimport',
            name='progressed_on',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='contactimport',
            index=models.Index(condition=models.Q(('status', 'R')), fields=['progressed_on'], name='contact_imports_running'),
        ),
    ]
