from django import forms

from reviews.models import ReviewDecision
from scans.forms import UploadForm
from studies.answer import FINDING_CHOICES


class StudyUploadForm(UploadForm):
    """The fields of a study upload besides its files: the same as a single upload's (patient reference, note)."""


class StudyReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
    override_finding = forms.ChoiceField(required=False, choices=[("", "—"), *FINDING_CHOICES])
    note = forms.CharField(required=False, max_length=2000)
