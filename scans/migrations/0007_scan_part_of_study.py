"""Scan.part_of_study: a study's slices leave history, its counts, the worklist and the upload quota.

Scans stored as slices of a study before the field existed are marked from the studies' own link
(StudySlice), the one place that knew; hence the dependency on the studies app's first migration.
"""

from django.conf import settings
from django.db import migrations, models


def mark_study_slices(apps, schema_editor):
    Scan = apps.get_model("scans", "Scan")
    StudySlice = apps.get_model("studies", "StudySlice")
    Scan.objects.filter(pk__in=StudySlice.objects.values("scan_id")).update(part_of_study=True)


class Migration(migrations.Migration):

    dependencies = [
        ('scans', '0006_prediction_heat'),
        ('studies', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='scan',
            name='scan_owner_created',
        ),
        migrations.AddField(
            model_name='scan',
            name='part_of_study',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='scan',
            index=models.Index(fields=['owner', 'part_of_study', '-created_at'], name='scan_owner_single_created'),
        ),
        migrations.RunPython(mark_study_slices, migrations.RunPython.noop),
    ]
