"""Uploads stored before content types were checked may hold anything the client declared (`audio/mpeg,text/html`,
`audio/x:https://elsewhere/a.mp3#`): those are served and attached as `application/octet-stream` from now on."""

from django.db import migrations

from herald.media.files import declared_content_type

UNKNOWN = "application/octet-stream"


def repair_content_types(apps, schema_editor):
    Media = apps.get_model("media", "Media")
    for media in Media.objects.only("content_type").iterator():
        clean = declared_content_type(media.content_type)
        if clean != media.content_type:
            media.content_type = clean or UNKNOWN
            media.save(update_fields=["content_type"])


class Migration(migrations.Migration):
    dependencies = [("media", "0001_initial")]

    operations = [migrations.RunPython(repair_content_types, migrations.RunPython.noop)]
