"""Give predictions stored before ml wrote structured abstentions their kind and a plain reason.

Before ml 1.2.0's structured abstentions, the reason was engineering text with known prefixes:
"Low confidence (0.51 < 0.94)." (unsure), "Second reader: ..." (a tumour found in a slice called
"no tumour"), and anything else meant the image was refused as not a brain MRI. That text is kept,
as the technical detail; the reason a clinician reads is rewritten in ml.wording's words, so old
and new results read the same.
"""

from django.db import migrations

from ml import wording

OLD_UNSURE_PREFIX = "Low confidence"
OLD_SECOND_READER_PREFIX = "Second reader"


def kind_from_old_reason(reason: str) -> str:
    if reason.startswith(OLD_UNSURE_PREFIX):
        return wording.UNSURE
    if reason.startswith(OLD_SECOND_READER_PREFIX):
        return wording.SECOND_READER
    return wording.NOT_MRI


def plain_reason(kind: str, prediction) -> str:
    if kind == wording.UNSURE:
        return wording.unsure_reason(prediction.probabilities)
    if kind == wording.SECOND_READER:
        return wording.second_reader_reason(prediction.label)
    return wording.not_mri_reason()


def forwards(apps, schema_editor):
    Prediction = apps.get_model("scans", "Prediction")
    for prediction in Prediction.objects.filter(abstained=True, abstain_kind="").iterator():
        kind = kind_from_old_reason(prediction.abstain_reason)
        prediction.technical_detail = prediction.abstain_reason[:500]
        prediction.abstain_reason = plain_reason(kind, prediction)[:500]
        prediction.abstain_kind = kind
        prediction.save(update_fields=["abstain_kind", "abstain_reason", "technical_detail"])


def backwards(apps, schema_editor):
    Prediction = apps.get_model("scans", "Prediction")
    for prediction in Prediction.objects.filter(abstained=True).exclude(technical_detail="").iterator():
        prediction.abstain_reason = prediction.technical_detail
        prediction.save(update_fields=["abstain_reason"])


class Migration(migrations.Migration):
    dependencies = [("scans", "0004_prediction_abstain_kind")]

    operations = [migrations.RunPython(forwards, backwards)]
