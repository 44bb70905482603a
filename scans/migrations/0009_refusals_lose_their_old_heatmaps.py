"""Refused predictions made before 0008 kept a heat-map overlay and heat PNG that nothing serves
(has_heatmap is False for a refusal): images derived from a patient's scan, stored for nothing. Delete
them and blank the fields, as the worker now does for every refusal. Not reversible: the files are gone."""

from django.core.files.storage import default_storage
from django.db import migrations

NOT_MRI = "not_mri"  # ml.wording.NOT_MRI, spelt out: a migration must not change when ml does


def forget_refusal_heatmaps(apps, schema_editor) -> None:
    Prediction = apps.get_model("scans", "Prediction")
    refused = Prediction.objects.filter(abstain_kind=NOT_MRI).exclude(heatmap="", heat="")
    for prediction in refused.only("pk", "heatmap", "heat").iterator():
        for name in (prediction.heatmap.name, prediction.heat.name):
            if name:
                default_storage.delete(name)  # a missing file is no error for FileSystemStorage
        Prediction.objects.filter(pk=prediction.pk).update(heatmap="", heat="")


class Migration(migrations.Migration):

    dependencies = [
        ("scans", "0008_prediction_heatmap_blank_for_refusals"),
    ]

    operations = [
        migrations.RunPython(forget_refusal_heatmaps, migrations.RunPython.noop, elidable=True),
    ]
